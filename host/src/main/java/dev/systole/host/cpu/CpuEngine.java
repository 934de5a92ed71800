package dev.systole.host.cpu;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.systole.host.graph.ModelException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The CPU engine: ONNX Runtime, which runs every node the device does not, and the float model
 * itself where a user asks for the reference ({@code --device cpu}) or calibration needs it.
 *
 * <p>There is one engine per process: ONNX Runtime's environment is a process-wide singleton,
 * and every program made here shares one pool of {@link #threads()} intra-op threads (created
 * with the environment), so a model cut into many CPU segments does not start a pool per
 * segment and oversubscribe the cores. The thread count is chosen once, before the first
 * program ({@link #configure}); the default is the machine's cores. When something else made
 * the environment first (a test's reference session), programs get pools of their own of the
 * same size instead.
 *
 * <p>ONNX Runtime's jar carries its native library for some platforms only; on any other the
 * engine cannot start, and says which platforms the jar has.
 */
public final class CpuEngine {
  private static final String[] PLATFORMS = {"linux-x64", "linux-aarch64", "osx-x64",
      "osx-aarch64", "win-x64"};
  private static CpuEngine shared;
  private static int requestedThreads;

  private final OrtEnvironment env;
  private final int threads;
  private final boolean globalPool;

  private CpuEngine(OrtEnvironment env, int threads, boolean globalPool) {
    this.env = env;
    this.threads = threads;
    this.globalPool = globalPool;
  }

  /**
   * Sets the number of threads the engine runs, before it starts for one shared pool.
   *
   * If the engine already runs with another number (a process that ran models before), the
   * programs made from now on get pools of their own of that size.
   *
   * @throws IllegalArgumentException if {@code threads < 1}
   */
  public static synchronized void configure(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("--threads " + threads + " (expected >= 1)");
    }
    if (shared != null && shared.threads != threads) {
      shared = new CpuEngine(shared.env, threads, false);
    }
    requestedThreads = threads;
  }

  /** The process's engine, started on first use. */
  public static synchronized CpuEngine get() {
    if (shared == null) {
      int threads = requestedThreads > 0 ? requestedThreads
          : Runtime.getRuntime().availableProcessors();
      shared = start(threads);
    }
    return shared;
  }

  private static CpuEngine start(int threads) {
    try {
      OrtEnvironment.ThreadingOptions options = new OrtEnvironment.ThreadingOptions();
      options.setGlobalIntraOpNumThreads(threads);
      options.setGlobalInterOpNumThreads(1);
      try {
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            "systole", options);
        return new CpuEngine(env, threads, true);
      } catch (IllegalStateException alreadyMade) {
        return new CpuEngine(OrtEnvironment.getEnvironment(), threads, false);
      } finally {
        options.close();
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime cannot start: " + e.getMessage(), e);
    } catch (LinkageError | RuntimeException e) {
      throw new IllegalStateException(String.format(Locale.ROOT, "ONNX Runtime, the CPU engine,"
          + " has no native library for %s %s (its jar has them for %s): %s",
          System.getProperty("os.name"), System.getProperty("os.arch"),
          String.join(", ", platforms()), rootMessage(e)), e);
    }
  }

  /** The platforms whose native library ONNX Runtime's jar carries. */
  public static List<String> platforms() {
    List<String> found = new ArrayList<>();
    ClassLoader loader = CpuEngine.class.getClassLoader();
    for (String p : PLATFORMS) {
      String lib = p.startsWith("win") ? "onnxruntime.dll"
          : p.startsWith("osx") ? "libonnxruntime.dylib" : "libonnxruntime.so";
      if (loader.getResource("ai/onnxruntime/native/" + p + "/" + lib) != null) {
        found.add(p);
      }
    }
    return found;
  }

  private static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null) {
      c = c.getCause();
    }
    return c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName();
  }

  /** The intra-op threads each run uses. */
  public int threads() {
    return threads;
  }

  OrtEnvironment environment() {
    return env;
  }

  /**
   * How ONNX Runtime may rewrite a model before running it: {@link #FULL}, every rewrite it
   * has (fused kernels, layouts of its own), for speed; {@link #NONE}, the model op by op as
   * written, whose integer ops then follow their definitions bit for bit, for comparisons that
   * must be exact.
   */
  public enum Rewrites {
    FULL, NONE
  }

  /**
   * A program of the serialized model {@code model}, ready to run, with every rewrite ONNX
   * Runtime has.
   *
   * @param name names the model in messages (a file, or a segment of one)
   * @throws ModelException if ONNX Runtime refuses the model, with its message
   */
  public CpuProgram load(String name, byte[] model) {
    return load(name, model, Rewrites.FULL);
  }

  /** {@link #load(String, byte[])} with the {@code rewrites} given. */
  public CpuProgram load(String name, byte[] model, Rewrites rewrites) {
    try (OrtSession.SessionOptions options = options(rewrites)) {
      return new CpuProgram(name, env, env.createSession(model, options));
    } catch (OrtException e) {
      throw new ModelException(name + ": ONNX Runtime cannot load the model: "
          + CpuProgram.clean(e.getMessage()));
    }
  }

  /**
   * Checks that ONNX Runtime loads the model in file {@code model} (with any external data
   * beside it), as every model Systole runs must.
   *
   * @throws ModelException if it does not, with ONNX Runtime's message
   */
  public void check(java.nio.file.Path model) {
    try (OrtSession.SessionOptions options = options(Rewrites.NONE)) {
      env.createSession(model.toString(), options).close();
    } catch (OrtException e) {
      throw new ModelException(model + ": ONNX Runtime cannot load the model: "
          + CpuProgram.clean(e.getMessage()));
    }
  }

  /** The options of every session: the engine's threads, in order, with these rewrites. */
  private OrtSession.SessionOptions options(Rewrites rewrites) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    if (globalPool) {
      options.disablePerSessionThreads();
    } else {
      options.setIntraOpNumThreads(threads);
      options.setInterOpNumThreads(1);
    }
    options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
    options.setOptimizationLevel(rewrites == Rewrites.FULL
        ? OrtSession.SessionOptions.OptLevel.ALL_OPT
        : OrtSession.SessionOptions.OptLevel.NO_OPT);
    return options;
  }
}
