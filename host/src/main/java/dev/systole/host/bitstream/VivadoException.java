package dev.systole.host.bitstream;

/**
 * Vivado is missing, is a version a flow was not written for, or failed; the message says which,
 * in words a user can act on.
 */
public final class VivadoException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public VivadoException(String message) {
    super(message);
  }
}
