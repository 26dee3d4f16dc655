; Rust. Capture scheme: see javascript.scm. An impl block (@scope.impl) makes its functions methods of
; @impl.type and, with @impl.trait, an `implements` base; `use` trees (@import.tree) are expanded in Python.

; -- definitions
(function_item name: (identifier) @name) @definition.function
(function_signature_item name: (identifier) @name) @definition.method
(struct_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(union_item name: (type_identifier) @name) @definition.union
(trait_item name: (type_identifier) @name) @definition.trait
(mod_item name: (identifier) @name body: (declaration_list)) @scope.namespace
(impl_item trait: (_)? @impl.trait type: (_) @impl.type body: (declaration_list)) @scope.impl

; -- calls
(call_expression function: (identifier) @call.name) @call
(call_expression function: (field_expression value: (_) @call.receiver field: (field_identifier) @call.name)) @call
(call_expression function: (scoped_identifier path: (_) @call.receiver name: (identifier) @call.name)) @call

; -- imports
(use_declaration argument: (_) @import.tree) @import
(mod_item name: (identifier) @import.module !body) @import

; -- bases
(trait_item bounds: (trait_bounds [(type_identifier) (scoped_type_identifier) (generic_type)] @base.extends))

; -- variables of known type
(parameter pattern: (identifier) @var.name type: (_) @var.type) @var
(let_declaration pattern: (identifier) @var.name type: (_) @var.type) @var
(let_declaration pattern: (identifier) @var.name value: (struct_expression name: (_) @var.type)) @var
(field_declaration name: (field_identifier) @var.name type: (_) @var.type) @var.field
