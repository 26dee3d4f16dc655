// Definition counts of JavaScript / TypeScript / TSX files by the TypeScript compiler's own parser, with
// graphdex's definition rules (queries/javascript.scm, typescript.scm): named classes (declarations and
// expressions), interfaces, enums, function declarations, methods (class and object-literal methods,
// constructors, accessors, signatures), and functions bound by a variable, an assignment, an object property or a
// class field (arrow functions and function expressions).
//   node ts_count.js FILE... -> prints one JSON object {class, interface, enum, function, method}
const ts = require(process.env.TYPESCRIPT_MODULE || "typescript");
const fs = require("fs");

const counts = { class: 0, interface: 0, enum: 0, function: 0, method: 0 };
const isFn = (n) => n && (ts.isArrowFunction(n) || ts.isFunctionExpression(n));

function visit(node) {
  if ((ts.isClassDeclaration(node) || ts.isClassExpression(node)) && node.name) counts.class++;
  else if (ts.isInterfaceDeclaration(node)) counts.interface++;
  else if (ts.isEnumDeclaration(node)) counts.enum++;
  else if (ts.isFunctionDeclaration(node) && node.name && node.body) counts.function++;  // not overload signatures
  else if (ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node)
           || ts.isSetAccessor(node) || ts.isMethodSignature(node)) counts.method++;
  else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && isFn(node.initializer)) counts.function++;
  else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken
           && (ts.isIdentifier(node.left) || ts.isPropertyAccessExpression(node.left)) && isFn(node.right)) counts.function++;
  else if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))
           && isFn(node.initializer)) counts.function++;
  else if (ts.isPropertyDeclaration(node) && isFn(node.initializer)) counts.method++;
  ts.forEachChild(node, visit);
}

for (const file of process.argv.slice(2)) {
  const kind = file.endsWith(".tsx") || file.endsWith(".jsx") ? ts.ScriptKind.TSX
    : file.endsWith(".ts") ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  visit(ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true, kind));
}
console.log(JSON.stringify(counts));
