; Ruby. Capture scheme: see javascript.scm. Modules are Classes of subkind module; `include`/`extend`/`prepend`
; are `includes` bases; `require_relative` (@import.relative) and `require` are imports; `T.new` constructs.

; -- definitions
(class name: [(constant) (scope_resolution)] @name) @definition.class
(module name: [(constant) (scope_resolution)] @name) @definition.module
(method name: (_) @name) @definition.function
(singleton_method name: (_) @name) @definition.method

; -- calls
((call !receiver method: (identifier) @call.name) @call
  (#not-match? @call.name "^(require|require_relative|include|extend|prepend|attr_reader|attr_writer|attr_accessor|private|protected|public|module_function|raise)$"))
((call receiver: (_) @call.receiver method: (_) @call.name) @call (#not-eq? @call.name "new"))
((call receiver: [(constant) (scope_resolution)] @new.type method: (identifier) @_new) @new (#eq? @_new "new"))

; -- imports
((call method: (identifier) @_require arguments: (argument_list . (string (string_content) @import.relative)))
  @import (#eq? @_require "require_relative"))
((call method: (identifier) @_require arguments: (argument_list . (string (string_content) @import.source)))
  @import (#eq? @_require "require"))

; -- bases
(superclass [(constant) (scope_resolution)] @base.extends)
((call !receiver method: (identifier) @_include arguments: (argument_list [(constant) (scope_resolution)] @base.includes))
  (#match? @_include "^(include|extend|prepend)$"))

; -- variables of known type
((assignment left: (identifier) @var.name
             right: (call receiver: [(constant) (scope_resolution)] @var.type method: (identifier) @_new))
  @var (#eq? @_new "new"))
((assignment left: (instance_variable) @var.name
             right: (call receiver: [(constant) (scope_resolution)] @var.type method: (identifier) @_new))
  @var.field (#eq? @_new "new"))
