// Definition counts of Java files by javac's own parser (the compiler tree API), with graphdex's definition
// rules (queries/java.scm): named classes, interfaces, enums, records and annotation types, and methods and
// constructors (also those of anonymous classes).
//   java bench/independent/JavaCount.java FILE...   -> one JSON object {class, interface, enum, record, annotation, method}
import com.sun.source.tree.*;
import com.sun.source.util.*;
import javax.tools.*;
import java.util.*;

public class JavaCount {
    public static void main(String[] args) throws Exception {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        StandardJavaFileManager files = compiler.getStandardFileManager(null, null, null);
        DiagnosticListener<JavaFileObject> quiet = d -> { };
        JavacTask task = (JavacTask) compiler.getTask(null, files, quiet, List.of("-proc:none"), null,
                files.getJavaFileObjects(args));
        Map<String, Integer> counts = new TreeMap<>();
        for (String k : List.of("class", "interface", "enum", "record", "annotation", "method")) counts.put(k, 0);
        for (CompilationUnitTree unit : task.parse()) {
            new TreeScanner<Void, Void>() {
                @Override public Void visitClass(ClassTree node, Void p) {
                    if (!node.getSimpleName().isEmpty()) {
                        String kind = switch (node.getKind()) {
                            case INTERFACE -> "interface"; case ENUM -> "enum"; case RECORD -> "record";
                            case ANNOTATION_TYPE -> "annotation"; default -> "class"; };
                        counts.merge(kind, 1, Integer::sum);
                    }
                    return super.visitClass(node, p);
                }
                @Override public Void visitMethod(MethodTree node, Void p) {
                    counts.merge("method", 1, Integer::sum);
                    return super.visitMethod(node, p);
                }
            }.scan(unit, null);
        }
        StringBuilder out = new StringBuilder("{");
        counts.forEach((k, v) -> out.append(out.length() > 1 ? ", " : "").append('"').append(k).append("\": ").append(v));
        System.out.println(out.append("}"));
    }
}
