package dev.systole.host.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.systole.testing.ReaderContract;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * The .npy reader on any bytes: a tensor no larger than the data present, or an IOException that
 * names the stream. A tensor read is written and read back unchanged. The corpus, under this
 * class's {@code Inputs} resource directory, holds NumPy-written files of each dtype and every
 * input that once broke the reader.
 */
class NpyFuzzTest {
  private static final String SOURCE = "input.npy";

  @FuzzTest(maxDuration = "5m")
  void read(byte[] data) throws IOException {
    Tensor t = ReaderContract.check(SOURCE, data, List.of(IOException.class),
        () -> Npy.read(SOURCE, new ByteArrayInputStream(data)));
    if (t == null) {
      return;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Npy.write(out, t);
    Tensor back = Npy.read(SOURCE, new ByteArrayInputStream(out.toByteArray()));
    assertEquals(t.dtype(), back.dtype());
    assertArrayEquals(t.shape(), back.shape());
    assertEquals(t.data(), back.data());
  }
}
