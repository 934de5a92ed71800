package dev.systole.tests.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.systole.host.tensor.DType;
import dev.systole.host.tensor.Npy;
import dev.systole.host.tensor.Tensor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bundled Fashion-MNIST example, read from the classpath as the runtime reads it from the
 * host jar: every file the properties name is there with the shape and dtype the example's
 * README gives, and ONNX Runtime, run on the committed test images, scores the committed model at
 * exactly the accuracy that scripts/make-example-model recorded. That last check is what ties the
 * files together: a model retrained without its images, or labels from another slice, would give
 * another figure.
 */
class ExampleModelTest {
  private static final String DIR = "/dev/systole/host/examples/fashion-mnist/";
  private static final int BATCH = 250;

  private static Properties props;

  @BeforeAll
  static void readProperties() throws IOException {
    props = new Properties();
    props.load(new StringReader(new String(resource("example.properties"),
        StandardCharsets.US_ASCII)));
  }

  @Test
  void propertiesNameEverythingTheRuntimeNeeds() {
    for (String key : List.of("name", "model", "input.name", "input.shape", "input.scale",
        "output.name", "calibration", "test.images", "test.labels", "classes",
        "accuracy.fp32.test-images", "accuracy.fp32.test-set")) {
      assertNotNull(props.getProperty(key), "example.properties has no " + key);
    }
    assertEquals(1 / 255.0, Double.parseDouble(props.getProperty("input.scale")), 1e-15);
    assertEquals(10, classes().size(), "classes: " + classes());
    for (String key : List.of("accuracy.fp32.test-images", "accuracy.fp32.test-set")) {
      double accuracy = Double.parseDouble(props.getProperty(key));
      assertTrue(accuracy >= 88 && accuracy <= 100, key + " is " + accuracy
          + " (expected at least 88 percent, the example's target)");
    }
  }

  @Test
  void testImagesAndLabelsAreTheStoredBytes() throws IOException {
    Tensor images = npy("test.images");
    Tensor labels = npy("test.labels");
    assertEquals(DType.UINT8, images.dtype());
    assertArrayEquals(new long[] {1000, 1, 28, 28}, images.shape());
    assertEquals(DType.UINT8, labels.dtype());
    assertArrayEquals(new long[] {1000}, labels.shape());
    int[] perClass = new int[classes().size()];
    for (int i = 0; i < labels.numel(); i++) {
      int label = labels.getUint8(i);
      assertTrue(label < perClass.length, "label " + i + " is " + label
          + " (expected 0 <= label < " + perClass.length + ")");
      perClass[label]++;
    }
    for (int c = 0; c < perClass.length; c++) {
      assertTrue(perClass[c] > 0, "no test image of class " + c + " " + classes().get(c));
    }
    int darkest = 255;
    int brightest = 0;
    for (int i = 0; i < images.numel(); i++) {
      darkest = Math.min(darkest, images.getUint8(i));
      brightest = Math.max(brightest, images.getUint8(i));
    }
    assertEquals(0, darkest, "the background of Fashion-MNIST images is 0");
    assertEquals(255, brightest, "some pixel of 1000 images is full scale");
  }

  @Test
  void calibrationImagesAreWhatTheModelTakes() throws IOException {
    Tensor calibration = npy("calibration");
    assertEquals(DType.FLOAT32, calibration.dtype());
    assertArrayEquals(new long[] {128, 1, 28, 28}, calibration.shape());
    double scale = Double.parseDouble(props.getProperty("input.scale"));
    for (int i = 0; i < calibration.numel(); i++) {
      float v = calibration.getFloat32(i);
      long pixel = Math.round(v / scale);
      assertTrue(pixel >= 0 && pixel <= 255 && v == pixel(pixel, scale), "calibration element "
          + i + " is " + v + " (expected a pixel value 0 to 255 times " + scale + ")");
    }
  }

  @Test
  void modelHasTheInputAndOutputThePropertiesName() {
    try (OrtReference ort = model()) {
      String input = props.getProperty("input.name");
      assertEquals(List.of(input), ort.inputNames());
      assertEquals(List.of(props.getProperty("output.name")), ort.outputNames());
      long[] shape = ort.inputShape(input);
      assertEquals(-1, shape[0], "the batch dimension is symbolic");
      assertEquals(props.getProperty("input.shape"),
          shape[1] + "x" + shape[2] + "x" + shape[3]);
    }
  }

  @Test
  void onnxRuntimeScoresTheRecordedAccuracy() throws IOException {
    Tensor images = npy("test.images");
    Tensor labels = npy("test.labels");
    double scale = Double.parseDouble(props.getProperty("input.scale"));
    int n = Math.toIntExact(images.dim(0));
    int pixels = Math.toIntExact(images.numel() / n);
    int correct = 0;
    try (OrtReference ort = model()) {
      for (int first = 0; first < n; first += BATCH) {
        int count = Math.min(BATCH, n - first);
        Tensor batch = Tensor.allocate(DType.FLOAT32, count, 1, 28, 28);
        for (int i = 0; i < count * pixels; i++) {
          batch.setFloat32(i, pixel(images.getUint8((long) first * pixels + i), scale));
        }
        Tensor logits = ort.run(Map.of(props.getProperty("input.name"), batch))
            .get(props.getProperty("output.name"));
        assertEquals(DType.FLOAT32, logits.dtype());
        assertArrayEquals(new long[] {count, classes().size()}, logits.shape());
        for (int i = 0; i < count; i++) {
          correct += argmax(logits, i) == labels.getUint8(first + i) ? 1 : 0;
        }
      }
    }
    double accuracy = 100.0 * correct / n;
    double recorded = Double.parseDouble(props.getProperty("accuracy.fp32.test-images"));
    assertEquals(recorded, accuracy, 0.1 + 1e-9, "top-1 of ONNX Runtime on the " + n
        + " test images: " + correct + " right (example.properties records " + recorded + "%)");
  }

  /** A stored pixel as the model takes it: the nearest float to {@code pixel / 255}. */
  private static float pixel(long pixel, double scale) {
    return (float) (pixel * scale);
  }

  private static int argmax(Tensor logits, int row) {
    int classes = Math.toIntExact(logits.dim(1));
    int best = 0;
    for (int c = 1; c < classes; c++) {
      if (logits.getFloat32((long) row * classes + c)
          > logits.getFloat32((long) row * classes + best)) {
        best = c;
      }
    }
    return best;
  }

  private static List<String> classes() {
    return List.of(props.getProperty("classes").split(","));
  }

  private static OrtReference model() {
    String file = props.getProperty("model");
    return OrtReference.load(file, resource(file));
  }

  private static Tensor npy(String key) throws IOException {
    String file = props.getProperty(key);
    try (InputStream in = new ByteArrayInputStream(resource(file))) {
      return Npy.read(file, in);
    }
  }

  private static byte[] resource(String file) {
    try (InputStream in = ExampleModelTest.class.getResourceAsStream(DIR + file)) {
      assertNotNull(in, "no resource " + DIR + file + " on the classpath"
          + " (scripts/make-example-model writes it into the host module's resources)");
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
