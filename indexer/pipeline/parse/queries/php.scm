; PHP. Capture scheme: see javascript.scm. `use A\B\C [as D]` imports a name (@import.path, with the group's
; @import.prefix); a trait `use` in a class is an `includes` base; `require __DIR__ . '/x.php'` is relative.

(namespace_definition name: (namespace_name) @name) @scope.namespace

; -- definitions
(class_declaration name: (name) @name) @definition.class
(interface_declaration name: (name) @name) @definition.interface
(trait_declaration name: (name) @name) @definition.trait
(enum_declaration name: (name) @name) @definition.enum
(method_declaration name: (name) @name) @definition.method
(function_definition name: (name) @name) @definition.function

; -- calls
(function_call_expression function: [(name) (qualified_name)] @call.name) @call
(member_call_expression object: (_) @call.receiver name: (name) @call.name arguments: (_) @call.arguments) @call
(nullsafe_member_call_expression object: (_) @call.receiver name: (name) @call.name) @call
(scoped_call_expression scope: (_) @call.receiver name: (name) @call.name arguments: (_) @call.arguments) @call
(object_creation_expression [(name) (qualified_name)] @new.type) @new

; -- imports
(namespace_use_declaration (namespace_use_clause . [(qualified_name) (name)] @import.path alias: (name)? @import.alias)) @import
(namespace_use_declaration
  (namespace_name) @import.prefix
  body: (namespace_use_group (namespace_use_clause . [(qualified_name) (name)] @import.path alias: (name)? @import.alias))) @import
((require_expression
   (binary_expression left: (name) @_dir right: [(string (string_content) @import.relative)
                                                (encapsed_string (string_content) @import.relative)]))
  @import (#eq? @_dir "__DIR__"))
(require_expression [(string (string_content) @import.source) (encapsed_string (string_content) @import.source)]) @import
((require_once_expression
   (binary_expression left: (name) @_dir right: [(string (string_content) @import.relative)
                                                (encapsed_string (string_content) @import.relative)]))
  @import (#eq? @_dir "__DIR__"))
(require_once_expression [(string (string_content) @import.source) (encapsed_string (string_content) @import.source)]) @import
((include_expression
   (binary_expression left: (name) @_dir right: [(string (string_content) @import.relative)
                                                (encapsed_string (string_content) @import.relative)]))
  @import (#eq? @_dir "__DIR__"))
(include_expression [(string (string_content) @import.source) (encapsed_string (string_content) @import.source)]) @import
((include_once_expression
   (binary_expression left: (name) @_dir right: [(string (string_content) @import.relative)
                                                (encapsed_string (string_content) @import.relative)]))
  @import (#eq? @_dir "__DIR__"))
(include_once_expression [(string (string_content) @import.source) (encapsed_string (string_content) @import.source)]) @import

; -- bases
(base_clause [(name) (qualified_name)] @base.extends)
(class_interface_clause [(name) (qualified_name)] @base.implements)
(declaration_list (use_declaration [(name) (qualified_name)] @base.includes))

; -- variables of known type
(simple_parameter type: (named_type [(name) (qualified_name)] @var.type) name: (variable_name) @var.name) @var
(property_promotion_parameter type: (named_type [(name) (qualified_name)] @var.type) name: (variable_name) @var.name) @var.field
(property_declaration type: (named_type [(name) (qualified_name)] @var.type) (property_element name: (variable_name) @var.name)) @var.field
(assignment_expression left: (variable_name) @var.name right: (object_creation_expression [(name) (qualified_name)] @var.type)) @var
