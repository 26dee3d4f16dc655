; inherits: ecmascript
; TypeScript and TSX: after ecmascript.scm (shared with JavaScript, whose file explains the capture scheme), types.

; -- definitions only TypeScript has
(abstract_class_declaration name: (_) @name) @definition.class
(interface_declaration name: (_) @name) @definition.interface
(enum_declaration name: (_) @name) @definition.enum
(method_signature name: (_) @name) @definition.method
(abstract_method_signature name: (_) @name) @definition.method
(internal_module name: (_) @name) @scope.namespace
(public_field_definition
  name: (_) @name
  value: [(arrow_function) (function_expression)]) @definition.method

; -- bases
(class_heritage (extends_clause value: (_) @base.extends))
(class_heritage (implements_clause [(type_identifier) (nested_type_identifier) (generic_type)] @base.implements))
(extends_type_clause type: (_) @base.extends)

; -- variables of known type (besides ecmascript.scm's `new` ones): annotated ones
(variable_declarator
  name: (identifier) @var.name
  type: (type_annotation [(type_identifier) (nested_type_identifier) (generic_type)] @var.type)) @var
(required_parameter
  pattern: (identifier) @var.name
  type: (type_annotation [(type_identifier) (nested_type_identifier) (generic_type)] @var.type)) @var
(optional_parameter
  pattern: (identifier) @var.name
  type: (type_annotation [(type_identifier) (nested_type_identifier) (generic_type)] @var.type)) @var
(required_parameter
  (accessibility_modifier)
  pattern: (identifier) @var.name
  type: (type_annotation [(type_identifier) (nested_type_identifier) (generic_type)] @var.type)) @var.field
(public_field_definition
  name: (property_identifier) @var.name
  type: (type_annotation [(type_identifier) (nested_type_identifier) (generic_type)] @var.type)) @var.field
(public_field_definition
  name: (property_identifier) @var.name
  value: (new_expression constructor: [(identifier) (member_expression)] @var.type)) @var.field
