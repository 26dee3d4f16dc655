; Go. Capture scheme: see javascript.scm. A method's @receiver names its type; the package is the folder.

(package_clause (package_identifier) @name) @scope.namespace

; -- definitions
(function_declaration name: (identifier) @name) @definition.function
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [(type_identifier) @receiver
             (pointer_type (type_identifier) @receiver)
             (generic_type type: (type_identifier) @receiver)
             (pointer_type (generic_type type: (type_identifier) @receiver))]))
  name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(type_spec name: (type_identifier) @name
  type: [(type_identifier) (qualified_type) (pointer_type) (function_type) (map_type) (slice_type)
         (array_type) (channel_type) (generic_type)]) @definition.type
(method_elem name: (field_identifier) @name) @definition.method

; -- calls
(call_expression function: (identifier) @call.name) @call
(call_expression function: (selector_expression operand: (_) @call.receiver field: (field_identifier) @call.name)) @call

; -- imports
(import_spec name: (_)? @import.alias path: (interpreted_string_literal) @import.source) @import

; -- bases: embedded fields and interfaces
(field_declaration_list
  (field_declaration . type: [(type_identifier) (qualified_type) (generic_type)] @base.embeds .))
(field_declaration_list
  (field_declaration . type: (pointer_type [(type_identifier) (qualified_type) (generic_type)] @base.embeds) .))
(interface_type (type_elem . [(type_identifier) (qualified_type)] @base.embeds .))

; -- variables of known type
(parameter_declaration name: (identifier) @var.name type: (_) @var.type) @var
(var_spec name: (identifier) @var.name type: (_) @var.type) @var
(short_var_declaration
  left: (expression_list . (identifier) @var.name)
  right: (expression_list . [(composite_literal type: (_) @var.type)
                             (unary_expression operand: (composite_literal type: (_) @var.type))])) @var
(field_declaration name: (field_identifier) @var.name type: (_) @var.type) @var.field
