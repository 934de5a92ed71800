package dev.systole.host.importer;

import dev.systole.host.graph.Graph;
import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import dev.systole.host.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reads ONNX models into a {@link Graph} and writes graphs back as ONNX, and the same for single
 * tensors (the {@code .pb} files of ONNX's test data). Models of IR version 3 or later are read,
 * at opsets of the default domain up to 17: all of 11 to 17, and older ones where each op's
 * definition there is one Systole implements. Anything wrong with the bytes or the model is a
 * {@link ModelException} whose message starts with the source's name and names the node.
 *
 * <p>Writing lets tests and tools build small models in Java ({@link Graph#builder()}) and hand
 * them to anything that reads ONNX, such as ONNX Runtime.
 */
public final class Onnx {
  private Onnx() {}

  /**
   * @throws IOException if the file cannot be read
   * @throws ModelException if it is not a model Systole can run, saying why
   */
  public static Graph read(Path file) throws IOException {
    return OnnxReader.readModel(file.toString(), Files.readAllBytes(file),
        file.toAbsolutePath().getParent());
  }

  /**
   * @param source names the bytes in error messages
   * @throws ModelException if they are not a model Systole can run, saying why
   */
  public static Graph read(String source, byte[] bytes) {
    return OnnxReader.readModel(source, bytes, null);
  }

  /**
   * A model of its own made of some of {@code graph}'s nodes (in order), reading {@code inputs}
   * and giving {@code outputs}: what the CPU engine runs for a part of a model.
   *
   * @throws IllegalArgumentException if an input's type is not known
   */
  public static byte[] slice(Graph graph, String name, List<Node> nodes, List<String> inputs,
      List<String> outputs) {
    return OnnxWriter.slice(graph, name, nodes, inputs, outputs, Map.of());
  }

  /**
   * {@link #slice(Graph, String, List, List, List)} with the inputs' concrete {@code shapes}
   * (by name; those missing are declared without a shape).
   */
  public static byte[] slice(Graph graph, String name, List<Node> nodes, List<String> inputs,
      List<String> outputs, Map<String, long[]> shapes) {
    return OnnxWriter.slice(graph, name, nodes, inputs, outputs, shapes);
  }

  /** The ONNX ModelProto of {@code graph}. */
  public static byte[] write(Graph graph) {
    return OnnxWriter.model(graph);
  }

  public static void write(Graph graph, Path file) throws IOException {
    Files.write(file, write(graph));
  }

  /**
   * Reads one serialized TensorProto.
   *
   * @throws ModelException if the bytes are not a tensor of a type Systole has
   */
  public static Tensor readTensor(String source, byte[] bytes) {
    return OnnxReader.readTensor(source, bytes);
  }

  public static Tensor readTensor(Path file) throws IOException {
    return readTensor(file.toString(), Files.readAllBytes(file));
  }

  /** {@code tensor} as a serialized TensorProto named {@code name} (none if empty). */
  public static byte[] writeTensor(String name, Tensor tensor) {
    return OnnxWriter.tensor(name, tensor);
  }
}
