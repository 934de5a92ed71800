package dev.systole.spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Regenerates the files derived from the contract (the Java view, the reference tables, the
 * SystemVerilog package and the C++ header of the harness and testbenches), or with {@code --check} reports those that
 * differ from what the spec produces. Run through {@code scripts/generate-contract}.
 *
 * <p>Usage: {@code GenerateContract [--check] REPO_ROOT}
 */
public final class GenerateContract {
  private GenerateContract() {}

  /** Derived file (relative to the repository root) to the contents the spec gives it. */
  public static Map<Path, String> derivedFiles(Path root) {
    ContractSpec spec = ContractSpec.load(root.resolve(JavaGenerator.SOURCE));
    Path javaDir = Path.of("driver/src/main/java", JavaGenerator.PACKAGE.split("\\."));
    Map<Path, String> out = new java.util.LinkedHashMap<>();
    new JavaGenerator(spec).generate().forEach((name, text) -> out.put(javaDir.resolve(name),
        text));
    out.put(Path.of("fpga/spec/generated/tables.md"), new MarkdownGenerator(spec).generate());
    out.put(Path.of("fpga/rtl/systole_pkg.sv"), new SvGenerator(spec).generate());
    out.put(Path.of("fpga/spec/generated/systole_contract.h"),
        new CppGenerator(spec).generate());
    return out;
  }

  /** The derived files whose committed contents differ from the spec's, relative to root. */
  public static List<Path> stale(Path root) throws IOException {
    List<Path> stale = new ArrayList<>();
    for (Map.Entry<Path, String> e : derivedFiles(root).entrySet()) {
      Path file = root.resolve(e.getKey());
      if (!Files.exists(file)
          || !Files.readString(file, StandardCharsets.UTF_8).equals(e.getValue())) {
        stale.add(e.getKey());
      }
    }
    return stale;
  }

  public static void main(String[] args) throws IOException {
    boolean check = args.length > 0 && args[0].equals("--check");
    Path root = Path.of(args.length > (check ? 1 : 0) ? args[check ? 1 : 0] : ".");
    try {
      if (check) {
        List<Path> stale = stale(root);
        for (Path p : stale) {
          System.err.println("out of date with " + JavaGenerator.SOURCE + ": " + p);
        }
        System.exit(stale.isEmpty() ? 0 : 1);
      }
      for (Map.Entry<Path, String> e : derivedFiles(root).entrySet()) {
        Path file = root.resolve(e.getKey());
        Files.createDirectories(file.getParent());
        Files.writeString(file, e.getValue(), StandardCharsets.UTF_8);
        System.out.println("wrote " + e.getKey());
      }
    } catch (SpecException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    }
  }
}
