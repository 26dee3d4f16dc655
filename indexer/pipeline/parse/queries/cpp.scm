; C++. Capture scheme: see javascript.scm. An out-of-class definition `R Cls::m() {}` is a method of Cls (its
; qualified name carries the class); namespaces qualify what they hold.

(namespace_definition name: (_) @name body: (declaration_list)) @scope.namespace

; -- definitions
(function_definition
  declarator: (function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)
                                                (qualified_identifier)] @name)) @definition.function
(function_definition
  declarator: (_ declarator: (function_declarator declarator: [(identifier) (field_identifier) (operator_name)
                                                               (destructor_name) (qualified_identifier)] @name))) @definition.function
(function_definition
  declarator: (_ declarator: (_ declarator: (function_declarator
    declarator: [(identifier) (field_identifier) (operator_name) (destructor_name) (qualified_identifier)] @name)))) @definition.function
(class_specifier name: (_) @name body: (field_declaration_list)) @definition.class
(struct_specifier name: (_) @name body: (field_declaration_list)) @definition.struct
(union_specifier name: (_) @name body: (field_declaration_list)) @definition.union
(enum_specifier name: (_) @name body: (enumerator_list)) @definition.enum
(type_definition type: (struct_specifier !name body: (field_declaration_list)) declarator: (type_identifier) @name) @definition.struct
(type_definition type: (enum_specifier !name body: (enumerator_list)) declarator: (type_identifier) @name) @definition.enum

; -- calls
(call_expression function: [(identifier) (template_function name: (identifier))] @call.name arguments: (_) @call.arguments) @call
(call_expression function: (field_expression argument: (_) @call.receiver field: (_) @call.name) arguments: (_) @call.arguments) @call
(call_expression function: (qualified_identifier scope: (_) @call.receiver name: (_) @call.name) arguments: (_) @call.arguments) @call
(new_expression type: (_) @new.type arguments: (_)? @new.arguments) @new

; -- imports
(preproc_include path: [(string_literal) (system_lib_string)] @import.source) @import

; -- bases
(base_class_clause [(type_identifier) (qualified_identifier) (template_type)] @base.extends)

; -- variables of known type
(parameter_declaration type: (_) @var.type
  declarator: [(identifier) @var.name (pointer_declarator declarator: (identifier) @var.name)
               (reference_declarator (identifier) @var.name)]) @var
(declaration type: (_) @var.type
  declarator: [(identifier) @var.name
               (pointer_declarator declarator: (identifier) @var.name)
               (reference_declarator (identifier) @var.name)
               (init_declarator declarator: [(identifier) @var.name (pointer_declarator declarator: (identifier) @var.name)
                                             (reference_declarator (identifier) @var.name)])]) @var
(field_declaration type: (_) @var.type
  declarator: [(field_identifier) @var.name (pointer_declarator declarator: (field_identifier) @var.name)
               (reference_declarator (field_identifier) @var.name)]) @var.field

; -- declarations (prototypes): what an #include makes callable
(declaration declarator: (function_declarator declarator: (identifier) @declaration))
(declaration declarator: (_ declarator: (function_declarator declarator: (identifier) @declaration)))
