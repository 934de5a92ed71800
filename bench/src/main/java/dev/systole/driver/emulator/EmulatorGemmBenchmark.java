package dev.systole.driver.emulator;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The emulator's functional GEMM: the MATMUL kernel over the whole problem, the way a program
 * drives the array. A is laid out in ABUF as K/D blocks of M rows of D lanes, B as (K/D)·(N/D)
 * weight tiles of D×D, C in ACC as N/D blocks of M rows of D int32 lanes; for every column block
 * the K/D MATMULs into its accumulator rows are one chain, as the emulator runs a compiled
 * program's (the kernel streams all M rows through each tile of the chain, accumulating over K).
 * With {@code blocks=pairs}, two column blocks' chains run as one pair, as the emulator runs the
 * chains of a layer's neighbouring column blocks over the same rows.
 * One thread, as the emulator runs. This lives in the kernel's package because the
 * kernel is package-private.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class EmulatorGemmBenchmark {
  @Param({"16"})
  public int lanes;

  @Param({"vector", "scalar"})
  public String kernel;

  @Param({"chains", "pairs"})
  public String blocks;

  private MatmulKernel matmul;
  private byte[] abuf;
  /** Per column block u, the K/D tiles of its dot products, in K order. */
  private byte[][][] tiles;
  /** Per pair of column blocks u, u+1: the tiles of u then those of u+1. */
  private byte[][][] pairTiles;
  /** ABUF offsets of the K/D blocks of A. */
  private int[] offsets;
  /** Where each tile starts in its array: every tile is an array of its own here. */
  private int[] tileAt;
  private int[] acc;

  @Setup
  public void setup() {
    GemmProblem p = new GemmProblem();
    int d = lanes;
    int m = GemmProblem.M;
    int kt = GemmProblem.K / d;
    int nt = GemmProblem.N / d;
    matmul = kernel.equals("vector") ? MatmulKernel.vector(d) : MatmulKernel.scalar(d);
    if (matmul == null) {
      throw new IllegalStateException("no vector kernel for D=" + d
          + " (is the JVM running with --add-modules jdk.incubator.vector?)");
    }
    abuf = new byte[kt * m * d];
    offsets = new int[kt];
    for (int t = 0; t < kt; t++) {
      offsets[t] = t * m * d;
      for (int i = 0; i < m; i++) {
        System.arraycopy(p.a, i * GemmProblem.K + t * d, abuf, (t * m + i) * d, d);
      }
    }
    tiles = new byte[nt][kt][d * d];
    for (int t = 0; t < kt; t++) {
      for (int u = 0; u < nt; u++) {
        for (int k = 0; k < d; k++) {
          for (int n = 0; n < d; n++) {
            tiles[u][t][k * d + n] = p.b[(t * d + k) * GemmProblem.N + u * d + n];
          }
        }
      }
    }
    pairTiles = new byte[nt / 2][2 * kt][];
    for (int u = 0; u + 1 < nt; u += 2) {
      for (int t = 0; t < kt; t++) {
        pairTiles[u / 2][t] = tiles[u][t];
        pairTiles[u / 2][kt + t] = tiles[u + 1][t];
      }
    }
    acc = new int[nt * m * d];
    tileAt = new int[2 * kt];
    gemm();
    int[] c = new int[m * GemmProblem.N];
    for (int u = 0; u < nt; u++) {
      for (int i = 0; i < m; i++) {
        System.arraycopy(acc, (u * m + i) * d, c, i * GemmProblem.N + u * d, d);
      }
    }
    GemmProblem.check("the " + kernel + " kernel on " + blocks, p.reference(false), c);
  }

  @Benchmark
  public int[] gemm() {
    int d = lanes;
    int m = GemmProblem.M;
    int kt = GemmProblem.K / d;
    int nt = GemmProblem.N / d;
    if (blocks.equals("pairs")) {
      for (int u = 0; u < nt; u += 2) {
        matmul.chain(abuf, offsets, pairTiles[u / 2], tileAt, kt, acc, u * m * d,
            (u + 1) * m * d, m, false);
      }
    } else {
      for (int u = 0; u < nt; u++) {
        matmul.chain(abuf, offsets, tiles[u], tileAt, kt, acc, u * m * d, m, false);
      }
    }
    return acc;
  }
}
