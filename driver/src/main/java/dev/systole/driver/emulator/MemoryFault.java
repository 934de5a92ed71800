package dev.systole.driver.emulator;

/**
 * Card memory that failed to answer a read or write (a backing file that cannot be read, an
 * injected fault): the emulated counterpart of an AXI error response. The machine turns it into
 * the MEM_FAULT error status of the contract; it never escapes to the host as an exception.
 */
public final class MemoryFault extends RuntimeException {
  public MemoryFault(String message, Throwable cause) {
    super(message, cause);
  }

  public MemoryFault(String message) {
    super(message);
  }
}
