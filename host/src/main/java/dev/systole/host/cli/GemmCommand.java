package dev.systole.host.cli;

import dev.systole.host.io.OutputFiles;
import dev.systole.host.compile.GemmLayer;
import dev.systole.host.compile.LayerGraph;
import dev.systole.host.compile.Requant;
import dev.systole.host.run.LoadedGraph;
import dev.systole.host.run.Session;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code systole gemm}: {@code C = A * B (+ bias)} on a device, from and to .npy files. */
@Command(name = "gemm", mixinStandardHelpOptions = true,
    description = {"Compute C = A * B (+ bias) on a device: int8 A (MxK), int8 B (KxN), int32"
        + " bias (N). Writes int32 C, or int8 C when requantized (--scale or --multiplier)."})
final class GemmCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Mixin
  DeviceOption device;

  @Option(names = "--a", required = true, paramLabel = "A.npy", description = "int8 M x K.")
  Path a;

  @Option(names = "--b", required = true, paramLabel = "B.npy", description = "int8 K x N.")
  Path b;

  @Option(names = "--bias", paramLabel = "BIAS.npy", description = "int32 N.")
  Path bias;

  @Option(names = "--out", required = true, paramLabel = "C.npy", description = "Output file.")
  Path out;

  @Option(names = "--scale", paramLabel = "S",
      description = "Requantize with this real scale (converted to the contract's multiplier"
          + " and shift).")
  Double scale;

  @Option(names = "--multiplier", paramLabel = "M",
      description = "Requantize with this int32 fixed-point multiplier (with --shift).")
  Integer multiplier;

  @Option(names = "--shift", paramLabel = "S", description = "Right shift, 0 to 63 (with"
      + " --multiplier).")
  Integer shift;

  @Option(names = "--zero-point", paramLabel = "Z", defaultValue = "0",
      description = "Output zero point, -128 to 127 (default 0).")
  int zeroPoint;

  @Option(names = "--relu", description = "Clamp below at the zero point.")
  boolean relu;

  @Override
  public Integer call() throws Exception {
    PrintWriter pw = spec.commandLine().getOut();
    OutputFiles.checkFile("--out", out);
    Tensor ta = Npy.read(a);
    Tensor tb = Npy.read(b);
    require(ta, "A", a, DType.INT8, 2);
    require(tb, "B", b, DType.INT8, 2);
    if (ta.dim(1) != tb.dim(0)) {
      throw new IllegalArgumentException("A is " + ta.shapeString() + " and B is "
          + tb.shapeString() + ": A's columns must equal B's rows");
    }
    int k = (int) ta.dim(1);
    int n = (int) tb.dim(1);
    int[] biasValues = null;
    if (bias != null) {
      Tensor tbias = Npy.read(bias);
      require(tbias, "bias", bias, DType.INT32, 1);
      if (tbias.dim(0) != n) {
        throw new IllegalArgumentException("bias has " + tbias.dim(0) + " values but B is "
            + tb.shapeString() + " (expected one per column: " + n + ")");
      }
      biasValues = new int[n];
      tbias.data().asIntBuffer().get(biasValues);
    }
    Requant requant = requant(n);
    if (requant != null && biasValues == null) {
      biasValues = new int[n];
    }
    byte[] weights = new byte[k * n];
    tb.data().get(weights);
    LayerGraph graph = LayerGraph.of(new GemmLayer(k, n, weights, biasValues, requant));
    try (Session session = Session.owning(device.open(pw))) {
      LoadedGraph g = session.load(graph);
      Session.Result r = session.execute(g, ta);
      OutputFiles.write(out, o -> Npy.write(o, r.output()));
      pw.printf("C = A * B%s: %s * %s -> %s %s on %s, %d device cycles%n",
          bias != null ? " + bias" : "", ta.shapeString(), tb.shapeString(),
          r.output().dtype().name().toLowerCase(), r.output().shapeString(),
          session.device().name(), r.deviceCycles());
    }
    return ExitCodes.OK;
  }

  private static void require(Tensor t, String what, Path file, DType dtype, int rank) {
    if (t.dtype() != dtype || t.rank() != rank) {
      throw new IllegalArgumentException(what + " (" + file + ") is " + t.dtype().name()
          .toLowerCase() + " " + t.shapeString() + " (expected " + dtype.name().toLowerCase()
          + " with " + rank + (rank == 1 ? " dimension)" : " dimensions)"));
    }
  }

  private Requant requant(int n) {
    if (scale != null && (multiplier != null || shift != null)) {
      throw new IllegalArgumentException("give --scale, or --multiplier with --shift, not both");
    }
    if (scale != null) {
      int[] ms = fixedPoint(scale);
      return Requant.uniform(n, ms[0], ms[1], zeroPoint, relu);
    }
    if (multiplier != null || shift != null) {
      if (multiplier == null || shift == null) {
        throw new IllegalArgumentException("--multiplier and --shift go together");
      }
      return Requant.uniform(n, multiplier, shift, zeroPoint, relu);
    }
    if (zeroPoint != 0 || relu) {
      throw new IllegalArgumentException("--zero-point and --relu need --scale or --multiplier");
    }
    return null;
  }

  /**
   * A real scale as the contract's {@code multiplier * 2^-shift}, the multiplier in [2^30, 2^31)
   * for 31 bits of precision.
   */
  static int[] fixedPoint(double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("--scale " + scale + " (expected a positive number)");
    }
    int e = Math.getExponent(scale);
    long m = Math.round(Math.scalb(scale, 30 - e));
    int s = 30 - e;
    if (m == 1L << 31) {
      m >>= 1;
      s--;
    }
    if (s < 0 || s > 63) {
      throw new IllegalArgumentException("--scale " + scale + " is out of range (expected 2^-33"
          + " to 2^30)");
    }
    return new int[] {(int) m, s};
  }
}
