; Java. Capture scheme: see javascript.scm. @import.path is a dotted path whose last part is the name imported;
; with @import.all the whole path is a package whose every type is imported.

(package_declaration [(identifier) (scoped_identifier)] @name) @scope.namespace

; -- definitions
(class_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.record
(annotation_type_declaration name: (identifier) @name) @definition.annotation
(method_declaration name: (identifier) @name) @definition.method
(constructor_declaration name: (identifier) @name) @definition.method
(compact_constructor_declaration name: (identifier) @name) @definition.method

; -- calls
(method_invocation !object name: (identifier) @call.name arguments: (_) @call.arguments) @call
(method_invocation object: (_) @call.receiver name: (identifier) @call.name arguments: (_) @call.arguments) @call
(object_creation_expression type: [(type_identifier) (scoped_type_identifier) (generic_type)] @new.type
  arguments: (_) @new.arguments) @new

; -- imports
((import_declaration [(identifier) (scoped_identifier)] @import.path) @import
  (#not-match? @import "\\*\\s*;\\s*$"))
((import_declaration [(identifier) (scoped_identifier)] @import.path (asterisk)) @import @import.all)

; -- bases
(superclass [(type_identifier) (scoped_type_identifier) (generic_type)] @base.extends)
(super_interfaces (type_list [(type_identifier) (scoped_type_identifier) (generic_type)] @base.implements))
(extends_interfaces (type_list [(type_identifier) (scoped_type_identifier) (generic_type)] @base.extends))

; -- variables of known type
(formal_parameter type: (_) @var.type name: (identifier) @var.name) @var
(local_variable_declaration type: (_) @var.type declarator: (variable_declarator name: (identifier) @var.name)) @var
(field_declaration type: (_) @var.type declarator: (variable_declarator name: (identifier) @var.name)) @var.field
(record_declaration parameters: (formal_parameters (formal_parameter type: (_) @var.type name: (identifier) @var.name))) @var.field
