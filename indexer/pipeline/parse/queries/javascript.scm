; inherits: ecmascript
; JavaScript, after ecmascript.scm (shared with TypeScript). graphdex's one capture scheme, modelled on tags.scm:
;   @definition.<subkind> + @name           class-like (class, interface, enum, ...), function or method
;   @scope.namespace + @name                 a namespace or package: qualifies what it holds
;   @call + @call.name [+ @call.receiver]    a call; @new + @new.type: a constructor call
;   @import + @import.source [+ @import.name / @import.alias / @import.default / @import.namespace]
;   @base.extends / @base.implements / ...   a base type of the enclosing class
;   @var + @var.name + @var.type             a variable of known type (@var.field: a field of the enclosing class)

; -- bases
(class_heritage [(identifier) (member_expression)] @base.extends)
