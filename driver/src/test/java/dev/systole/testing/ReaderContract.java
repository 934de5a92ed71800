package dev.systole.testing;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * What every reader of outside bytes promises, checked on one input: it returns a value, or it
 * throws one of its clear error types with a message that starts with the source's name and
 * carries no Java internals; and it allocates little more than the input it was given. The fuzz
 * tests run each reader through this, so anything else (a NullPointerException, an index out of
 * bounds, a stack or heap exhausted, a message that says "No enum constant") fails the test with
 * the input that caused it.
 *
 * <p>Memory is measured, not guessed: the JVM counts the bytes each thread allocates, so a reader
 * that makes a 2 GB array for a 100-byte file fails here even when the heap is large enough to
 * hold it. The allowance is a multiple of the input plus a constant, generous enough for parsers
 * that box what they read, and far below what a declared size taken on trust allocates.
 * Phrases of Java's own messages are looked for in the message, except where the input itself
 * holds them and the message only quotes it.
 */
public final class ReaderContract {
  /** Bytes a reader may allocate per input byte, on top of {@link #SLACK}. */
  public static final long PER_INPUT_BYTE = 64;
  /** Bytes a reader may allocate whatever its input (class loading, small tables, messages). */
  public static final long SLACK = 32L << 20;

  /** Text of the JDK's own exception messages, which a user must never see. */
  private static final List<String> INTERNALS = List.of("java.", "Exception", "Error:",
      "Cannot invoke", "Cannot read", "Cannot load", "Cannot store", "because \"",
      "out of bounds for length", "No enum constant", "For input string", "Index ",
      "begin ", "/ by zero", ": null", "is null");

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private ReaderContract() {}

  /**
   * The first phrase of the JDK's own exception messages (a class name, "Cannot invoke", ": null")
   * that {@code message} holds, or null if it holds none: a message a user may be shown holds none.
   */
  public static String javaInternals(String message) {
    for (String phrase : INTERNALS) {
      if (message.contains(phrase)) {
        return phrase;
      }
    }
    return null;
  }

  /**
   * Runs {@code read} on {@code input} and checks the contract.
   *
   * @param source the name the reader was given for the input; a clear error starts with it, or
   *     null where the reader takes no name
   * @param clear the exception types that are the reader's clear errors
   * @return the value read, or null if the reader refused the input clearly
   * @throws AssertionError describing the breach, with the reader's throwable as its cause
   */
  public static <T> T check(String source, byte[] input, List<Class<? extends Exception>> clear,
      Callable<T> read) {
    return check(source, input, 0, clear, read);
  }

  /**
   * {@link #check(String, byte[], List, Callable)} with {@code allowance} more bytes allowed:
   * what the reader may legitimately make beyond its input (a sparse tensor's zeros).
   */
  public static <T> T check(String source, byte[] input, long allowance,
      List<Class<? extends Exception>> clear, Callable<T> read) {
    long limit = PER_INPUT_BYTE * input.length + SLACK + allowance;
    Run<T> run = Run.of(read);
    if (run.allocated > limit) {
      // The first read of a kind loads and initializes classes, which allocates too: only a
      // second read's figure counts against the reader.
      run = Run.of(read);
    }
    T value = run.value;
    Throwable thrown = run.thrown;
    long allocated = run.allocated;
    if (thrown instanceof StackOverflowError || thrown instanceof OutOfMemoryError) {
      throw new AssertionError("the reader exhausted the JVM (" + thrown
          + ") on " + input.length + " bytes", thrown);
    }
    if (allocated > limit) {
      throw new AssertionError(String.format("the reader allocated %d bytes for %d bytes of"
          + " input (expected at most %d)", allocated, input.length, limit), thrown);
    }
    if (thrown == null) {
      return value;
    }
    Throwable error = thrown;
    if (clear.stream().noneMatch(c -> c.isInstance(error))) {
      throw new AssertionError("the reader threw " + thrown.getClass().getName()
          + " (expected one of " + clear.stream().map(Class::getSimpleName).toList() + ")",
          thrown);
    }
    String message = thrown.getMessage();
    if (message == null || message.isBlank()) {
      throw new AssertionError("the reader's error has no message", thrown);
    }
    if (source != null && !message.startsWith(source)) {
      throw new AssertionError("the reader's error does not start with the source's name "
          + source + ": " + message, thrown);
    }
    for (String phrase : INTERNALS) {
      if (message.contains(phrase) && !quoted(phrase, input)
          && (source == null || !source.contains(phrase))) {
        throw new AssertionError("the reader's error shows Java internals (\"" + phrase + "\"): "
            + message, thrown);
      }
    }
    return null;
  }

  /** Whether the input holds {@code phrase}, so that a message may quote it. */
  private static boolean quoted(String phrase, byte[] input) {
    return new String(input, StandardCharsets.ISO_8859_1).contains(phrase)
        || new String(input, StandardCharsets.UTF_8).contains(phrase);
  }

  /** One call of a reader: what it returned or threw, and the bytes it allocated. */
  private record Run<T>(T value, Throwable thrown, long allocated) {
    static <T> Run<T> of(Callable<T> read) {
      long before = THREADS.getCurrentThreadAllocatedBytes();
      T value = null;
      Throwable thrown = null;
      try {
        value = read.call();
      } catch (Throwable t) {
        thrown = t;
      }
      return new Run<>(value, thrown, THREADS.getCurrentThreadAllocatedBytes() - before);
    }
  }
}
