package dev.systole.host.graph;

import java.util.Optional;

/**
 * A model that cannot be read, checked or run: malformed bytes, an op Systole does not support, an
 * input nobody produces, an attribute out of range, shapes that do not fit together. It is a
 * domain exception because it carries the node it is about, when there is one, so a compile report
 * or a CLI can point at the node as well as print the message; the message already names the node
 * and says what was expected, so printing it alone is enough.
 */
public final class ModelException extends RuntimeException {
  private final String node;

  /** A problem with the model as a whole, not with one node. */
  public ModelException(String message) {
    this(null, message, null);
  }

  public ModelException(String message, Throwable cause) {
    this(null, message, cause);
  }

  private ModelException(String node, String message, Throwable cause) {
    super(message, cause);
    this.node = node;
  }

  /**
   * A problem with one node; the message becomes {@code <opType> node '<name>': <problem>}.
   */
  public static ModelException atNode(String opType, String nodeName, String problem) {
    return new ModelException(nodeName, opType + " node '" + nodeName + "': " + problem, null);
  }

  /** A problem about node {@code nodeName}, with a message that already names it. */
  public static ModelException withNode(String nodeName, String message) {
    return new ModelException(nodeName, message, null);
  }

  /** {@link #atNode(String, String, String)} for a built node. */
  public static ModelException atNode(Node node, String problem) {
    return atNode(node.opType(), node.name(), problem);
  }

  /** The name of the node the problem is in, if it is in one. */
  public Optional<String> node() {
    return Optional.ofNullable(node);
  }
}
