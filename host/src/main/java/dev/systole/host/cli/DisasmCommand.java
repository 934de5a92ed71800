package dev.systole.host.cli;

import dev.systole.driver.contract.Contract;
import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.InstructionCheck;
import dev.systole.host.compile.GemmLayer;
import dev.systole.host.compile.GraphCompiler;
import dev.systole.host.compile.LayerGraph;
import dev.systole.host.compile.MatmulPlan;
import dev.systole.host.compile.Requant;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code systole disasm}: a program as readable instructions. */
@Command(name = "disasm", mixinStandardHelpOptions = true,
    description = {"Print a program as readable instructions: a binary program file (32 bytes"
        + " per instruction, as it lies in card memory), or the program the compiler makes for a"
        + " GEMM. Illegal instructions are marked with the error the device would report."})
final class DisasmCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @Parameters(paramLabel = "FILE", description = "A binary program file.")
    Path file;

    @Option(names = "--gemm", paramLabel = "MxKxN",
        description = "Compile a GEMM of these shapes (with random weights) and print it.")
    String gemm;
  }

  @Option(names = "--requant", description = "With --gemm: requantize to int8.")
  boolean requant;

  @Option(names = "--params", paramLabel = "PARAM=VALUE,...", defaultValue = "",
      description = "With --gemm: compile for another build, e.g. ARRAY=8.")
  String buildParams;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    DeviceParams p = DeviceParams.defaults();
    List<Instruction> program = new ArrayList<>();
    if (source.file != null) {
      byte[] bytes = Files.readAllBytes(source.file);
      if (bytes.length % Contract.INSTRUCTION_BYTES != 0) {
        throw new IllegalArgumentException(source.file + " has " + bytes.length + " bytes (expected"
            + " a multiple of " + Contract.INSTRUCTION_BYTES + ", one instruction each)");
      }
      for (int i = 0; i < bytes.length; i += Contract.INSTRUCTION_BYTES) {
        program.add(Instruction.read(bytes, i));
      }
    } else {
      String[] dims = source.gemm.toLowerCase().split("x");
      if (dims.length != 3) {
        throw new IllegalArgumentException("--gemm " + source.gemm + " (expected MxKxN, e.g."
            + " 64x300x53)");
      }
      int m = dimension("M", dims[0]);
      int k = dimension("K", dims[1]);
      int n = dimension("N", dims[2]);
      p = p.with(buildParams);
      byte[] w = new byte[k * n];
      GemmLayer layer = new GemmLayer(k, n, w, requant ? new int[n] : null,
          requant ? Requant.uniform(n, 1 << 30, 31, 0, false) : null);
      GraphCompiler.Program prog = GraphCompiler.compile(LayerGraph.of(layer).deviceGraph(), m,
          p, new GraphCompiler.Placement(new long[] {0x100000, 0x400000},
              new long[] {0, 0x200000}, new long[] {0, 0x300000}));
      MatmulPlan plan = prog.nodes().get(0).matmul();
      out.printf("# GEMM %dx%dx%d -> %s on %s%n", m, k, n, requant ? "int8" : "int32", p);
      out.printf("# m-blocks of %d rows, %d K chunks per step, %s, %d steps, %d buffer rows"
          + " loaded%n", plan.mTile(), plan.chunksPerStep(),
          plan.order().name().toLowerCase().replace('_', ' '), plan.steps(), plan.loadedRows());
      out.println("# X at 0x100000, W at 0x200000, constants at 0x300000, Y at 0x400000");
      program.addAll(prog.instructions());
    }
    int illegal = 0;
    for (int i = 0; i < program.size(); i++) {
      Instruction in = program.get(i);
      InstructionCheck.Violation v = InstructionCheck.check(in, p);
      if (v != null) {
        illegal++;
      }
      out.printf("%6d  %s%s%n", i, in, v == null ? "" : "    ; " + v);
    }
    return illegal == 0 ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
  }

  /** The largest M, K or N of {@code --gemm}: the weights, K x N bytes, then fit one array. */
  private static final int MAX_DIMENSION = 1 << 15;

  /** Dimension {@code name} of {@code --gemm}, refused outside 1 to {@link #MAX_DIMENSION}. */
  private int dimension(String name, String text) {
    long v;
    try {
      v = Long.parseLong(text.strip());
    } catch (NumberFormatException e) {
      v = -1;
    }
    if (v < 1 || v > MAX_DIMENSION) {
      throw new IllegalArgumentException("--gemm " + source.gemm + ": " + name + " is '"
          + text.strip() + "' (expected a whole number from 1 to " + MAX_DIMENSION + ")");
    }
    return (int) v;
  }
}
