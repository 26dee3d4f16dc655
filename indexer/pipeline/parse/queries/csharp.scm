; C#. Capture scheme: see javascript.scm. `using N;` imports every type of namespace N (@import.all); a base
; list cannot tell a class from an interface, so the resolver does (by what the base turns out to be).

(namespace_declaration name: (_) @name body: (declaration_list)) @scope.namespace
(file_scoped_namespace_declaration name: (_) @name) @scope.namespace

; -- definitions
(class_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(struct_declaration name: (identifier) @name) @definition.struct
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.record
(method_declaration name: (identifier) @name) @definition.method
(constructor_declaration name: (identifier) @name) @definition.method
(local_function_statement name: (identifier) @name) @definition.function

; -- calls
(invocation_expression function: (identifier) @call.name arguments: (_) @call.arguments) @call
(invocation_expression function: (generic_name (identifier) @call.name) arguments: (_) @call.arguments) @call
(invocation_expression
  function: (member_access_expression expression: (_) @call.receiver name: [(identifier) (generic_name (identifier))] @call.name)
  arguments: (_) @call.arguments) @call
(object_creation_expression type: [(identifier) (qualified_name) (generic_name)] @new.type arguments: (_)? @new.arguments) @new

; -- imports
((using_directive !name [(identifier) (qualified_name)] @import.path) @import @import.all)
(using_directive name: (identifier) @import.alias [(identifier) (qualified_name)] @import.path) @import

; -- bases
(base_list [(identifier) (qualified_name) (generic_name)] @base.extends)

; -- variables of known type
(parameter type: (_) @var.type name: (identifier) @var.name) @var
(local_declaration_statement
  (variable_declaration type: [(identifier) (qualified_name) (generic_name)] @var.type
                        (variable_declarator name: (identifier) @var.name))) @var
(variable_declarator name: (identifier) @var.name (object_creation_expression type: (_) @var.type)) @var
(field_declaration (variable_declaration type: (_) @var.type (variable_declarator name: (identifier) @var.name))) @var.field
(property_declaration type: (_) @var.type name: (identifier) @var.name) @var.field
