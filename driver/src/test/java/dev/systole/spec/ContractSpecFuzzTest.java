package dev.systole.spec;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.systole.testing.ReaderContract;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The contract spec reader (its TOML subset and the checks on what the contract says) on any
 * text: a spec, or a {@link SpecException} that names the file. A spec the reader accepts is
 * one every generator can turn into its Java, SystemVerilog, C++ and Markdown, so the checks the
 * reader makes are enough for what is built from it. The corpus holds the real contract and small
 * variants of it, and every input that once broke the reader.
 */
class ContractSpecFuzzTest {
  private static final String SOURCE = "contract.toml";

  @FuzzTest(maxDuration = "5m")
  void parse(byte[] data) {
    String text = new String(data, StandardCharsets.UTF_8);
    ContractSpec spec = ReaderContract.check(SOURCE, data, List.of(SpecException.class),
        () -> ContractSpec.parse(SOURCE, text));
    if (spec == null) {
      return;
    }
    assertFalse(new JavaGenerator(spec).generate().isEmpty());
    assertFalse(new SvGenerator(spec).generate().isEmpty());
    assertFalse(new CppGenerator(spec).generate().isEmpty());
    assertFalse(new MarkdownGenerator(spec).generate().isEmpty());
  }
}
