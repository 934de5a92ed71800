package dev.systole.host.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Reads the NumPy-written fixtures of {@code scripts/make-npy-fixtures} and writes them back. */
class NpyTest {
  @TempDir
  Path tmp;

  private static Path fixture(String name) {
    try {
      return Path.of(NpyTest.class.getResource("/npy/" + name + ".npy").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] fixtureBytes(String name) {
    try {
      return Files.readAllBytes(fixture(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // The arrays of scripts/make-npy-fixtures, built here without reading the files.

  private static Tensor int8x2x3() {
    return Tensor.ofInt8(new byte[] {-128, -1, 0, 1, 2, 127}, 2, 3);
  }

  private static Tensor uint8x4() {
    Tensor t = Tensor.allocate(DType.UINT8, 4);
    int[] v = {0, 1, 128, 255};
    for (int i = 0; i < v.length; i++) {
      t.setUint8(i, v[i]);
    }
    return t;
  }

  private static Tensor int32x37x3() {
    int[] v = new int[111];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i - 55) * 19_000_003;
    }
    v[0] = Integer.MIN_VALUE;
    v[110] = Integer.MAX_VALUE;
    return Tensor.ofInt32(v, 37, 3);
  }

  private static Tensor int64Scalar() {
    Tensor t = Tensor.allocate(DType.INT64);
    t.setInt64(0, -1234567890123456789L);
    return t;
  }

  private static final float[] FLOATS = {0.5f, -1.25f, 3.0e38f, -0.0f, Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY, Float.NaN, 1e-45f};

  private static Tensor float32x2x2x2() {
    return Tensor.ofFloat32(FLOATS, 2, 2, 2);
  }

  private static final double[] DOUBLES = {0.1, -2.5, 1e308, -0.0, Double.POSITIVE_INFINITY,
      Double.NEGATIVE_INFINITY, Double.NaN, Double.MIN_VALUE};

  private static Tensor float64x2x4() {
    return Tensor.ofFloat64(DOUBLES, 2, 4);
  }

  /** NumPy rounds 70000 to infinity, 1e-8 to zero and 6e-8 to the smallest subnormal, 2^-24. */
  private static Tensor float16x9() {
    return Tensor.ofFloat16(new float[] {0.5f, -1.25f, 65504f, -0.0f, Float.POSITIVE_INFINITY,
        Float.NaN, 6e-8f, 70000f, 1e-8f}, 9);
  }

  private static Tensor bool5() {
    return Tensor.ofBool(new boolean[] {true, false, false, true, true}, 5);
  }

  private static Tensor int32x2x3() {
    return Tensor.ofInt32(new int[] {0, 1, 2, 3, 4, 5}, 2, 3);
  }

  static Stream<Arguments> numpyWritten() {
    return Stream.of(
        Arguments.of("int8_2x3", int8x2x3()),
        Arguments.of("uint8_4", uint8x4()),
        Arguments.of("int32_37x3", int32x37x3()),
        Arguments.of("int64_scalar", int64Scalar()),
        Arguments.of("float32_2x2x2", float32x2x2x2()),
        Arguments.of("float64_2x4", float64x2x4()),
        Arguments.of("float16_9", float16x9()),
        Arguments.of("bool_5", bool5()),
        Arguments.of("int8_0x3", Tensor.allocate(DType.INT8, 0, 3)),
        Arguments.of("int32_header_on_boundary",
            Tensor.allocate(DType.INT32, 0, 1, 1, 123, 123, 123, 123, 123, 123, 123)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("numpyWritten")
  void readsWhatNumpyWrote(String name, Tensor expected) throws IOException {
    Tensor t = Npy.read(fixture(name));
    assertEquals(expected, t);
    try (var in = Files.newInputStream(fixture(name))) {
      assertEquals(expected, Npy.read(name, in));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("numpyWritten")
  void writesWhatNumpyWrites(String name, Tensor t) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Npy.write(out, t);
    assertArrayEquals(fixtureBytes(name), out.toByteArray());
    Path file = tmp.resolve(name + ".npy");
    Npy.write(file, t);
    assertArrayEquals(fixtureBytes(name), Files.readAllBytes(file));
  }

  @Test
  void fixtureValuesAreTheIntendedOnes() throws IOException {
    Tensor i8 = Npy.read(fixture("int8_2x3"));
    assertEquals(DType.INT8, i8.dtype());
    assertArrayEquals(new long[] {2, 3}, i8.shape());
    assertEquals(-128, i8.getInt8(0));
    assertEquals(127, i8.getInt8(5));

    Tensor u8 = Npy.read(fixture("uint8_4"));
    assertEquals(DType.UINT8, u8.dtype());
    assertEquals(128, u8.getUint8(2));
    assertEquals(255, u8.getUint8(3));

    Tensor i32 = Npy.read(fixture("int32_37x3"));
    assertArrayEquals(new long[] {37, 3}, i32.shape());
    assertEquals(Integer.MIN_VALUE, i32.getInt32(0));
    assertEquals(-54 * 19_000_003, i32.getInt32(1));
    assertEquals(0, i32.getInt32(55));
    assertEquals(Integer.MAX_VALUE, i32.getInt32(110));

    Tensor i64 = Npy.read(fixture("int64_scalar"));
    assertEquals(0, i64.rank());
    assertEquals(-1234567890123456789L, i64.getInt64(0));

    Tensor f32 = Npy.read(fixture("float32_2x2x2"));
    assertArrayEquals(new long[] {2, 2, 2}, f32.shape());
    for (int i = 0; i < FLOATS.length; i++) {
      assertEquals(Float.floatToRawIntBits(FLOATS[i]), Float.floatToRawIntBits(f32.getFloat32(i)),
          "element " + i);
    }

    Tensor f64 = Npy.read(fixture("float64_2x4"));
    assertEquals(DType.FLOAT64, f64.dtype());
    assertArrayEquals(new long[] {2, 4}, f64.shape());
    for (int i = 0; i < DOUBLES.length; i++) {
      assertEquals(Double.doubleToRawLongBits(DOUBLES[i]),
          Double.doubleToRawLongBits(f64.getFloat64(i)), "element " + i);
    }

    Tensor f16 = Npy.read(fixture("float16_9"));
    assertEquals(DType.FLOAT16, f16.dtype());
    short[] halves = {0x3800, (short) 0xBD00, 0x7BFF, (short) 0x8000, 0x7C00, 0x7E00, 0x0001,
        0x7C00, 0x0000};
    for (int i = 0; i < halves.length; i++) {
      assertEquals(halves[i], f16.data().getShort(2 * i), "element " + i);
    }
    assertEquals(-1.25f, f16.getFloat16(1));
    assertEquals(0x1p-24f, f16.getFloat16(6));

    Tensor mask = Npy.read(fixture("bool_5"));
    assertEquals(DType.BOOL, mask.dtype());
    assertArrayEquals(new byte[] {1, 0, 0, 1, 1}, mask.toByteArray());

    Tensor empty = Npy.read(fixture("int8_0x3"));
    assertArrayEquals(new long[] {0, 3}, empty.shape());
    assertEquals(0, empty.numel());
  }

  @Test
  void readsVersions2And3() throws IOException {
    assertEquals(2, fixtureBytes("int32_2x3_v2")[6]);
    assertEquals(3, fixtureBytes("int32_2x3_v3")[6]);
    assertEquals(int32x2x3(), Npy.read(fixture("int32_2x3_v2")));
    assertEquals(int32x2x3(), Npy.read(fixture("int32_2x3_v3")));
  }

  static Stream<Arguments> dtypesAndShapes() {
    long[][] shapes = {{}, {0}, {1}, {7}, {2, 3}, {3, 0, 2}, {1, 1, 1, 1}, {4, 5, 6}, {1000}};
    return Arrays.stream(DType.values()).flatMap(
        d -> Arrays.stream(shapes).map(s -> Arguments.of(d, Tensor.shapeString(s), s)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("dtypesAndShapes")
  void roundTripsEveryDtypeAndShape(DType dtype, String label, long[] shape) throws IOException {
    Tensor t = Tensor.allocate(dtype, shape);
    ByteBuffer data = t.data();
    byte[] random = new byte[data.remaining()];
    new Random(label.hashCode() * 31L + dtype.ordinal()).nextBytes(random);
    data.put(random);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Npy.write(out, t);
    byte[] bytes = out.toByteArray();
    assertEquals(0, (bytes.length - t.byteSize()) % 64, "data starts at a multiple of 64");
    assertEquals('\n', bytes[(int) (bytes.length - t.byteSize() - 1)]);
    assertEquals(t, Npy.read("round trip", new ByteArrayInputStream(bytes)));

    Path file = tmp.resolve("t.npy");
    Npy.write(file, t);
    assertEquals(t, Npy.read(file));
  }

  @Test
  void writesTensorsThatWrapDirectOrReadOnlyBuffers() throws IOException {
    Tensor expected = int32x37x3();
    ByteBuffer direct = ByteBuffer.allocateDirect((int) expected.byteSize());
    direct.put(expected.data()).flip();
    for (ByteBuffer b : new ByteBuffer[] {direct, expected.data().asReadOnlyBuffer()}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Npy.write(out, Tensor.wrap(DType.INT32, new long[] {37, 3}, b));
      assertArrayEquals(fixtureBytes("int32_37x3"), out.toByteArray());
    }
  }

  @Test
  void writesVersion2WhenTheHeaderOutgrowsVersion1() throws IOException {
    long[] shape = new long[22000];
    Arrays.fill(shape, 1);
    Tensor t = Tensor.ofInt32(new int[] {-5}, shape);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Npy.write(out, t);
    byte[] bytes = out.toByteArray();
    assertEquals(2, bytes[6]);
    assertEquals(0, bytes[7]);
    int headerLength = ByteBuffer.wrap(bytes, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    assertTrue(headerLength > 65535, "header length " + headerLength);
    assertEquals(bytes.length, 12 + headerLength + 4);
    assertEquals(0, (12 + headerLength) % 64);
    assertEquals(t, Npy.read("v2", new ByteArrayInputStream(bytes)));
  }

  // Error cases: every one is checked through a stream and through a file, with the same message.

  /** The message of reading {@code bytes}, which must fail alike from a file and a stream. */
  private String error(byte[] bytes) throws IOException {
    String fromStream = assertThrows(IOException.class,
        () -> Npy.read("bad.npy", new ByteArrayInputStream(bytes))).getMessage();
    Path file = tmp.resolve("bad.npy");
    Files.write(file, bytes);
    String fromFile = assertThrows(IOException.class, () -> Npy.read(file)).getMessage();
    assertTrue(fromStream.startsWith("bad.npy: "), fromStream);
    assertEquals(file + fromStream.substring("bad.npy".length()), fromFile);
    return fromStream.substring("bad.npy: ".length());
  }

  /** A version 1.0 file with this header dict, padded to {@code align}, and these data bytes. */
  private static byte[] npy(String dict, int align, byte[] data) {
    int length = dict.length() + 1;
    length += (align - (10 + length) % align) % align;
    ByteBuffer b = ByteBuffer.allocate(10 + length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) length);
    b.put((dict + " ".repeat(length - dict.length() - 1) + "\n").getBytes(StandardCharsets.UTF_8));
    return b.put(data).array();
  }

  private static byte[] npy(String dict) {
    return npy(dict, 64, new byte[6]);
  }

  @Test
  void headersAreParsedAsPythonLiterals() throws IOException {
    byte[] six = {1, 2, 3, 4, 5, 6};
    Tensor expected = Tensor.ofInt8(six, 2, 3);
    for (String dict : new String[] {
        "{'shape': (2, 3), 'descr': '|i1', 'fortran_order': False}",
        "{ \"fortran_order\" :False,'shape':(2,3,),\"descr\":'|i1',}",
        "{\n  'descr': '|i1',\n  'fortran_order': False,\n  'shape': ( 2 , 3 ),\n}",
    }) {
      assertEquals(expected, Npy.read("h", new ByteArrayInputStream(npy(dict, 64, six))), dict);
    }
    assertArrayEquals(new long[] {6}, Npy.read("h", new ByteArrayInputStream(npy(
        "{'descr': '|i1', 'fortran_order': False, 'shape': (6,), }", 64, six))).shape());
    assertArrayEquals(new long[] {}, Npy.read("h", new ByteArrayInputStream(npy(
        "{'descr': '|i1', 'fortran_order': False, 'shape': (), }", 64, new byte[1]))).shape());
  }

  @Test
  void dataAlignedTo16IsAccepted() throws IOException {
    byte[] bytes = npy("{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3), }", 16,
        new byte[6]);
    assertEquals(80, bytes.length - 6);
    assertEquals(Tensor.allocate(DType.INT8, 2, 3),
        Npy.read("h", new ByteArrayInputStream(bytes)));
  }

  @Test
  void refusesFilesThatAreNotNpy() throws IOException {
    assertEquals("not a .npy file: it starts with 0x89504e470d0a1a0a"
        + " (expected 0x934e554d5059, \\x93NUMPY)",
        error(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0}));
    assertEquals("not a .npy file: it starts with nothing (expected 0x934e554d5059, \\x93NUMPY)",
        error(new byte[0]));
    assertEquals("not a .npy file: it starts with 0x934e55 (expected 0x934e554d5059, \\x93NUMPY)",
        error(new byte[] {(byte) 0x93, 'N', 'U'}));
    assertEquals("the file ends inside the .npy version",
        error(Arrays.copyOf(fixtureBytes("int8_2x3"), 7)));
    assertEquals("the file ends inside the header length",
        error(Arrays.copyOf(fixtureBytes("int8_2x3"), 9)));
  }

  @Test
  void refusesUnknownVersions() throws IOException {
    byte[] b = fixtureBytes("int8_2x3");
    b[6] = 4;
    assertEquals("unsupported .npy format version 4.0 (expected 1.0, 2.0 or 3.0)", error(b));
    b[6] = 1;
    b[7] = 1;
    assertEquals("unsupported .npy format version 1.1 (expected 1.0, 2.0 or 3.0)", error(b));
  }

  static Stream<Arguments> bigEndian() {
    return Stream.of(
        Arguments.of("int32_3_bigendian", Tensor.ofInt32(new int[] {0, 1, 2}, 3)),
        Arguments.of("int64_3_bigendian", Tensor.ofInt64(new long[] {-1, 1L << 40, -1L << 62}, 3)),
        Arguments.of("float16_3_bigendian", Tensor.ofFloat16(new float[] {1, -2, 65504}, 3)),
        Arguments.of("float32_4_bigendian", Tensor.ofFloat32(
            new float[] {0.5f, -1.25f, Float.POSITIVE_INFINITY, Float.NaN}, 4)),
        Arguments.of("float64_3_bigendian", Tensor.ofFloat64(new double[] {0.1, -2.5, 1e308}, 3)));
  }

  /** Big-endian files read as the little-endian tensor of the same values, and write as one. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("bigEndian")
  void readsBigEndianDataTurnedAround(String name, Tensor expected) throws IOException {
    assertEquals(expected, Npy.read(fixture(name)));
    try (var in = Files.newInputStream(fixture(name))) {
      assertEquals(expected, Npy.read(name, in));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Npy.write(out, Npy.read(fixture(name)));
    String header = new String(out.toByteArray(), 10, 20, StandardCharsets.US_ASCII);
    assertEquals("{'descr': '" + expected.dtype().npyDescr() + "', 'fo", header);
  }

  @Test
  void bigEndianSizeErrorsNameTheFilesDescriptor() throws IOException {
    byte[] b = fixtureBytes("float64_3_bigendian");
    assertEquals("truncated: shape 3 of >f8 needs 24 data bytes, found 20",
        error(Arrays.copyOf(b, b.length - 4)));
  }

  @Test
  void refusesBigEndianDescriptorsNumpyDoesNotWrite() throws IOException {
    assertEquals("unsupported dtype '>i1' (expected one of " + ACCEPTED + ") in header"
        + " \"{'descr': '>i1', 'fortran_order': False, 'shape': (2, 3), }\"",
        error(npy("{'descr': '>i1', 'fortran_order': False, 'shape': (2, 3), }")));
    assertEquals("unsupported dtype '>u4' (expected one of " + ACCEPTED + ") in header"
        + " \"{'descr': '>u4', 'fortran_order': False, 'shape': (2, 3), }\"",
        error(npy("{'descr': '>u4', 'fortran_order': False, 'shape': (2, 3), }")));
  }

  @Test
  void refusesFortranOrder() throws IOException {
    assertEquals("Fortran-order data is not supported, only C order (fortran_order: False) in"
        + " header \"{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }\"",
        error(fixtureBytes("int32_2x3_fortran")));
  }

  private static final String ACCEPTED =
      "|i1, |u1, <i4, <i8, <f2, <f4, <f8, |b1, or big-endian >i4, >i8, >f2, >f4, >f8";

  @Test
  void refusesOtherDtypesNamingThem() throws IOException {
    assertEquals("unsupported dtype '<c16' (expected one of " + ACCEPTED + ") in header"
        + " \"{'descr': '<c16', 'fortran_order': False, 'shape': (2, 3), }\"",
        error(npy("{'descr': '<c16', 'fortran_order': False, 'shape': (2, 3), }")));
    assertHeaderError("unsupported dtype '<u2' (expected one of " + ACCEPTED + ")",
        "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }");
    assertHeaderError("unsupported dtype [('a', '<i4')] (expected one of " + ACCEPTED + ")",
        "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }");
  }

  @Test
  void refusesTruncatedData() throws IOException {
    byte[] b = fixtureBytes("int32_37x3");
    assertEquals("truncated: shape 37x3 of <i4 needs 444 data bytes, found 434",
        error(Arrays.copyOf(b, b.length - 10)));
    assertEquals("truncated: shape 37x3 of <i4 needs 444 data bytes, found 0",
        error(Arrays.copyOf(b, 128)));
  }

  @Test
  void refusesBytesAfterTheData() throws IOException {
    byte[] b = fixtureBytes("int8_2x3");
    assertEquals("3 bytes after the data: shape 2x3 of |i1 needs 6 data bytes, found 9"
        + " (the header does not describe the data)", error(Arrays.copyOf(b, b.length + 3)));
  }

  @Test
  void refusesAHeaderThatRunsPastTheEnd() throws IOException {
    byte[] b = fixtureBytes("int8_2x3");
    b[8] = 0x06;
    b[9] = 0x10;
    assertEquals("header length 4102 runs past the end of the file (124 bytes follow the length)",
        error(b));
    byte[] v2 = fixtureBytes("int32_2x3_v2");
    v2[8] = (byte) 0xF4;
    v2[9] = (byte) 0xFF;
    v2[10] = (byte) 0xFF;
    v2[11] = (byte) 0xFF;
    assertEquals("header length 4294967284 runs past the end of the file (140 bytes follow the"
        + " length)", error(v2));
    v2[11] = 0x7F;
    assertEquals("header length 2147483636 runs past the end of the file (140 bytes follow the"
        + " length)", error(v2));
  }

  @Test
  void refusesAHeaderLengthThatMisalignsTheData() throws IOException {
    byte[] b = fixtureBytes("int8_2x3");
    b[8]--;
    assertEquals("header length 117 puts the data at offset 127, which is not a multiple of 16"
        + " (the format pads the header to 64)", error(b));
  }

  /** Asserts that reading a file with header {@code dict} fails with {@code message}. */
  private void assertHeaderError(String message, String dict) throws IOException {
    assertEquals(message + " in header \"" + dict + "\"", error(npy(dict)));
  }

  @Test
  void refusesMalformedHeaders() throws IOException {
    assertHeaderError("missing key 'shape'", "{'descr': '|i1', 'fortran_order': False}");
    assertHeaderError("unexpected key 'extra' (expected 'descr', 'fortran_order' and 'shape')",
        "{'descr': '|i1', 'extra': 1, 'fortran_order': False, 'shape': (2, 3)}");
    assertHeaderError("duplicate key 'descr'",
        "{'descr': '|i1', 'descr': '|i1', 'fortran_order': False, 'shape': (2, 3)}");
    assertHeaderError("shape is [2, 3] (expected a tuple of integers)",
        "{'descr': '|i1', 'fortran_order': False, 'shape': [2, 3]}");
    assertHeaderError("shape is 6 (expected a tuple of integers)",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (6)}");
    assertHeaderError("shape (2, -3): dimension 1 is -3 (expected an integer >= 0)",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (2, -3)}");
    assertHeaderError("shape (2, '3'): dimension 1 is '3' (expected an integer >= 0)",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (2, '3')}");
    assertHeaderError("fortran_order is None (expected True or False)",
        "{'descr': '|i1', 'fortran_order': None, 'shape': (2, 3)}");
    assertHeaderError("found ''' at column 17 (expected ',' or '}')",
        "{'descr': '|i1' 'fortran_order': False, 'shape': (2, 3)}");
    assertHeaderError("found ';' at column 56 (expected ',' or ')')",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3; )}");
    assertHeaderError("found 'F' at column 35 (expected a value)",
        "{'descr': '|i1', 'fortran_order': Flase, 'shape': (2, 3)}");
    assertHeaderError("unterminated string at column 11", "{'descr': '|i1");
    assertHeaderError("found 'x' at column 59 (expected the end of the header)",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3)} x");
    assertHeaderError("the header is not a dict", "['descr', '|i1']");
    assertHeaderError("found the end (expected ',' or ')')",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3");
    assertHeaderError("integer 99999999999999999999 at column 52 does not fit 64 bits",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (99999999999999999999,)}");
    assertHeaderError("found the end (expected a value)", "");
    assertHeaderError("found the end (expected a value)",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (2,");
    assertHeaderError("found the end (expected ',' or '}')", "{'descr': '|i1'");
  }

  @Test
  void refusesHeadersNestedDeeperThanTheLimit() throws IOException {
    String dict = "{'descr': '|i1', 'fortran_order': False, 'shape': (6,), 'x': ";
    String deep = "[".repeat(20_000) + "]".repeat(20_000);
    String message = error(npy(dict + deep + "}"));
    assertTrue(message.startsWith("values nested 33 deep at column " + (dict.length() + 32)
        + " (expected at most 32 levels) in header"), message);
    String thirtyTwo = "[".repeat(31) + "]".repeat(31);
    String within = error(npy(dict + thirtyTwo + "}"));
    assertTrue(within.startsWith("unexpected key 'x' (expected 'descr', 'fortran_order' and"
        + " 'shape')"), within);
  }

  @Test
  void aHeaderDeclaringMoreDataThanFollowsAllocatesNothingForIt() throws IOException {
    byte[] b = npy("{'descr': '|i1', 'fortran_order': False, 'shape': (2000000000,), }", 64,
        new byte[] {1});
    var threads = (com.sun.management.ThreadMXBean)
        java.lang.management.ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    assertEquals("truncated: shape 2000000000 of |i1 needs 2000000000 data bytes, found 1",
        error(b));
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertTrue(allocated < (16 << 20), allocated + " bytes allocated");
  }

  @Test
  void refusesShapesTooLargeForATensor() throws IOException {
    assertEquals("shape 65536x65536 of int8 is 4294967296 bytes (expected at most 2147483647)",
        error(npy("{'descr': '|i1', 'fortran_order': False, 'shape': (65536, 65536), }")));
  }

  @Test
  void refusesAVersion3HeaderThatIsNotUtf8() throws IOException {
    byte[] b = fixtureBytes("int32_2x3_v3");
    b[13] = (byte) 0xFF;
    assertEquals("the header is not valid UTF-8", error(b));
  }
}
