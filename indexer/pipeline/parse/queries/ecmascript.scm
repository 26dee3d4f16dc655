; What JavaScript and TypeScript (and TSX) share: their definitions, calls and imports. Each language's file
; inherits this one and adds its own bases and variables (the grammars differ there).

; -- definitions
(class_declaration name: (_) @name) @definition.class
(class name: (_) @name) @definition.class
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

; -- variables of known type: `x = new Foo()`, `this.x = new Foo()`
(variable_declarator
  name: (identifier) @var.name
  value: (new_expression constructor: [(identifier) (member_expression)] @var.type)) @var
(assignment_expression
  left: (member_expression object: (this) property: (property_identifier) @var.name)
  right: (new_expression constructor: [(identifier) (member_expression)] @var.type)) @var.field

; -- the default export: what `import x from "./this"` binds
(export_statement "default" declaration: [(class_declaration name: (_) @export.default)
                                          (function_declaration name: (_) @export.default)])
(export_statement "default" value: (identifier) @export.default)
