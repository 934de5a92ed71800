package dev.systole.driver.emulator;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The textbook triple loop on the same problem, for scale. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PlainLoopGemmBenchmark {
  private GemmProblem problem;
  private int[] c;

  @Setup
  public void setup() {
    problem = new GemmProblem();
    c = new int[GemmProblem.M * GemmProblem.N];
  }

  @Benchmark
  public int[] plainLoop() {
    GemmProblem.multiply(problem.a, problem.b, c, false);
    return c;
  }
}
