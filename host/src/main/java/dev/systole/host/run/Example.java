package dev.systole.host.run;

import dev.systole.host.graph.Graph;
import dev.systole.host.importer.Onnx;
import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The example bundled with Systole (Fashion-MNIST): the float model, its calibration slice, test
 * images with their labels, and what {@code example.properties} says about them (the input's
 * name, shape and the scale from uint8 pixels to the model's float input, the class names, the
 * float model's accuracy as measured when it was made). Everything is read from the classpath, so
 * it works from the jar as from the build tree.
 */
public final class Example {
  /** The classpath folder of the bundled example. */
  public static final String RESOURCE = "dev/systole/host/examples/fashion-mnist/";

  private final Properties props;
  private final String folder;

  private Example(Properties props, String folder) {
    this.props = props;
    this.folder = folder;
  }

  /**
   * The bundled example.
   *
   * @throws UncheckedIOException if its files are missing from the classpath
   */
  public static Example bundled() {
    Properties p = new Properties();
    try (InputStream in = open(RESOURCE + "example.properties")) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Example(p, RESOURCE);
  }

  private static InputStream open(String resource) throws IOException {
    InputStream in = Example.class.getClassLoader().getResourceAsStream(resource);
    if (in == null) {
      throw new IOException("the bundled example has no " + resource + " on the classpath");
    }
    return in;
  }

  private String property(String key) {
    String v = props.getProperty(key);
    if (v == null) {
      throw new IllegalStateException(folder + "example.properties has no " + key);
    }
    return v.trim();
  }

  public String name() {
    return property("name");
  }

  public String inputName() {
    return property("input.name");
  }

  public String outputName() {
    return property("output.name");
  }

  public List<String> classes() {
    return List.of(property("classes").split(","));
  }

  /** The float model's top-1 accuracy on the bundled test images, in percent, when made. */
  public double recordedFp32Accuracy() {
    return Double.parseDouble(property("accuracy.fp32.test-images"));
  }

  public Graph model() {
    String file = property("model");
    try (InputStream in = open(folder + file)) {
      return Onnx.read(file, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The calibration slice, float32 as the model takes it. */
  public Tensor calibration() {
    return npy(property("calibration"));
  }

  /** The test images as stored, uint8 {@code [N, ...input.shape]}. */
  public Tensor testImages() {
    return npy(property("test.images"));
  }

  /** The label of each test image. */
  public int[] testLabels() {
    Tensor t = npy(property("test.labels"));
    int[] labels = new int[Math.toIntExact(t.numel())];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = t.dtype() == DType.UINT8 ? t.getUint8(i) : (int) t.getInt64(i);
    }
    return labels;
  }

  /**
   * uint8 images as the model's float input: each pixel times {@code input.scale}, shaped
   * {@code [N, ...input.shape]}.
   */
  public Tensor toInput(Tensor images) {
    float scale = Float.parseFloat(property("input.scale"));
    long[] item = Arrays.stream(property("input.shape").split("x")).mapToLong(Long::parseLong)
        .toArray();
    long[] shape = new long[item.length + 1];
    shape[0] = images.dim(0);
    System.arraycopy(item, 0, shape, 1, item.length);
    Tensor out = Tensor.allocate(DType.FLOAT32, shape);
    if (out.numel() != images.numel()) {
      throw new IllegalArgumentException("images of " + images.shapeString() + " for an input"
          + " of " + Tensor.shapeString(shape) + " (expected as many pixels)");
    }
    FloatBuffer f = out.data().asFloatBuffer();
    for (int i = 0; i < out.numel(); i++) {
      f.put(i, images.getUint8(i) * scale);
    }
    return out;
  }

  private Tensor npy(String file) {
    try (InputStream in = open(folder + file)) {
      return Npy.read(file, in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
