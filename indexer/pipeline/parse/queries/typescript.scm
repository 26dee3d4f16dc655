; TypeScript and TSX: JavaScript's patterns (see javascript.scm for the capture scheme) plus types.

; -- definitions
(class_declaration name: (_) @name) @definition.class
(class name: (_) @name) @definition.class
(abstract_class_declaration name: (_) @name) @definition.class
(interface_declaration name: (_) @name) @definition.interface
(enum_declaration name: (_) @name) @definition.enum
(method_signature name: (_) @name) @definition.method
(abstract_method_signature name: (_) @name) @definition.method
(internal_module name: (_) @name) @scope.namespace
(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(method_definition name: (_) @name) @definition.method
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function
(assignment_expression
  left: (identifier) @name
  right: [(arrow_function) (function_expression) (generator_function)]) @definition.function
; `obj.m = function () {}` and `{m: function () {}}` define a property, never a name in scope: methods
(assignment_expression
  left: (member_expression object: (_) @receiver property: (property_identifier) @name)
  right: [(arrow_function) (function_expression) (generator_function)]) @definition.method
(public_field_definition
  name: (_) @name
  value: [(arrow_function) (function_expression)]) @definition.method
(pair
  key: [(property_identifier) (string)] @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.method

; -- calls
((call_expression function: (identifier) @call.name) @call
  (#not-match? @call.name "^(require)$"))
(call_expression
  function: (member_expression object: (_) @call.receiver property: (_) @call.name)) @call
(new_expression constructor: [(identifier) (member_expression)] @new.type) @new

; -- imports
(import_statement (import_clause (identifier) @import.default) source: (string (string_fragment) @import.source)) @import
(import_statement
  (import_clause (named_imports (import_specifier name: (_) @import.name alias: (_)? @import.alias)))
  source: (string (string_fragment) @import.source)) @import
(import_statement
  (import_clause (namespace_import (identifier) @import.namespace))
  source: (string (string_fragment) @import.source)) @import
(import_statement source: (string (string_fragment) @import.source)) @import
(export_statement
  (export_clause (export_specifier name: (_) @import.name alias: (_)? @import.alias))
  source: (string (string_fragment) @import.source)) @import
(export_statement source: (string (string_fragment) @import.source)) @import
((variable_declarator
   name: (identifier) @import.namespace
   value: (call_expression function: (identifier) @_require
                           arguments: (arguments . (string (string_fragment) @import.source))))
  @import (#eq? @_require "require"))
((variable_declarator
   name: (object_pattern [(shorthand_property_identifier_pattern) @import.name
                          (pair_pattern key: (_) @import.name value: (identifier) @import.alias)])
   value: (call_expression function: (identifier) @_require
                           arguments: (arguments . (string (string_fragment) @import.source))))
  @import (#eq? @_require "require"))
((call_expression function: (identifier) @_require arguments: (arguments . (string (string_fragment) @import.source)))
  @import (#eq? @_require "require"))

; -- bases
(class_heritage (extends_clause value: (_) @base.extends))
(class_heritage (implements_clause [(type_identifier) (nested_type_identifier) (generic_type)] @base.implements))
(extends_type_clause type: (_) @base.extends)

; -- variables of known type
(variable_declarator
  name: (identifier) @var.name
  value: (new_expression constructor: [(identifier) (member_expression)] @var.type)) @var
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
(assignment_expression
  left: (member_expression object: (this) property: (property_identifier) @var.name)
  right: (new_expression constructor: [(identifier) (member_expression)] @var.type)) @var.field

; -- the default export: what `import x from "./this"` binds
(export_statement "default" declaration: [(class_declaration name: (_) @export.default)
                                          (function_declaration name: (_) @export.default)])
(export_statement "default" value: (identifier) @export.default)
