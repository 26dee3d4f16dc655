; C. Capture scheme: see javascript.scm. Only definitions with a body count (a prototype declares, it does not
; define); a typedef of an anonymous struct names it.

; -- definitions
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @definition.function
(function_definition
  declarator: (_ declarator: (function_declarator declarator: (identifier) @name))) @definition.function
(function_definition
  declarator: (_ declarator: (_ declarator: (function_declarator declarator: (identifier) @name)))) @definition.function
(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.struct
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.union
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @definition.enum
(type_definition type: (struct_specifier !name body: (field_declaration_list)) declarator: (type_identifier) @name) @definition.struct
(type_definition type: (union_specifier !name body: (field_declaration_list)) declarator: (type_identifier) @name) @definition.union
(type_definition type: (enum_specifier !name body: (enumerator_list)) declarator: (type_identifier) @name) @definition.enum

; -- calls
(call_expression function: (identifier) @call.name) @call
(call_expression function: (field_expression argument: (_) @call.receiver field: (field_identifier) @call.name)) @call

; -- imports
(preproc_include path: [(string_literal) (system_lib_string)] @import.source) @import

; -- variables of known type
(parameter_declaration type: (_) @var.type declarator: [(identifier) @var.name (pointer_declarator declarator: (identifier) @var.name)]) @var
(declaration type: (_) @var.type
  declarator: [(identifier) @var.name
               (pointer_declarator declarator: (identifier) @var.name)
               (init_declarator declarator: [(identifier) @var.name (pointer_declarator declarator: (identifier) @var.name)])]) @var
(field_declaration type: (_) @var.type declarator: [(field_identifier) @var.name (pointer_declarator declarator: (field_identifier) @var.name)]) @var.field

; -- declarations (prototypes): what an #include makes callable
(declaration declarator: (function_declarator declarator: (identifier) @declaration))
(declaration declarator: (_ declarator: (function_declarator declarator: (identifier) @declaration)))
