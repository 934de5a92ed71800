package dev.systole.host.tensor;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes NumPy's .npy files, the way model inputs, weights and expected outputs travel
 * between Python and this runtime. A file is a magic string, a version, a header that is a Python
 * dict literal ({@code {'descr': '<i4', 'fortran_order': False, 'shape': (37, 300), }}) padded
 * with spaces to a 64-byte boundary, and the raw little-endian bytes in C order, which are exactly
 * a {@link Tensor}'s bytes; so reading is a header parse and one bulk copy.
 *
 * <p>Writing reproduces NumPy byte for byte (the same key order, the spare spaces NumPy leaves for
 * growing the first axis, the same padding and version choice), so a file written here and one
 * written by {@code numpy.save} can be compared with {@code cmp}. Reading accepts what NumPy
 * writes, in versions 1.0, 2.0 and 3.0, and parses the header as a small Python literal rather
 * than by pattern, so key order and spacing do not matter. It refuses, with a message that starts
 * with the file's name, anything it would otherwise misread: Fortran-order data, other dtypes,
 * and a header whose shape disagrees with the number of bytes that follow it, in either direction.
 * A size in the header is a claim until the bytes are counted: from a file the data must be
 * exactly there before the tensor is made, and from a stream the bytes are read first and the
 * tensor made from them, so a few bytes that declare gigabytes allocate nothing for them. The
 * literal parser is recursive, which keeps it short, and stops at {@value Literal#MAX_DEPTH}
 * levels, far more than the two a NumPy header has and far fewer than would end the stack.
 *
 * <p>Big-endian data ({@code >f4}, which NumPy keeps when an array came from a big-endian source
 * such as a FITS file) is read and turned around into the little-endian tensor every other part
 * of the runtime expects, rather than refused: the descriptor says exactly what the bytes are, so
 * the swap cannot misread them, and a refusal would only send the user back to NumPy to do the
 * same swap. Writing is always little-endian.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  /** Data starts at a multiple of this; older writers aligned to 16, which is still read. */
  private static final int ALIGN = 64;
  private static final int OLD_ALIGN = 16;
  /** NumPy pads the header so the first axis can grow to this many digits in place. */
  private static final int GROWTH_AXIS_MAX_DIGITS = 21;
  private static final int MAX_HEADER_V1 = 0xFFFF;
  /** The longest header read, the most one byte array can hold. */
  private static final int MAX_HEADER = Integer.MAX_VALUE - 8;

  private Npy() {}

  public static Tensor read(Path file) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      return read(file.toString(), in, Files.size(file));
    }
  }

  /**
   * Reads one .npy file from {@code in} to its end, leaving the stream open.
   *
   * @param name names the stream in error messages
   */
  public static Tensor read(String name, InputStream in) throws IOException {
    return read(name, in, -1);
  }

  /** {@code length} is the stream's length if known, else -1; it only lets errors come early. */
  private static Tensor read(String name, InputStream in, long length) throws IOException {
    byte[] prefix = in.readNBytes(MAGIC.length + 2);
    for (int i = 0; i < MAGIC.length; i++) {
      if (i >= prefix.length || prefix[i] != MAGIC[i]) {
        throw error(name, "not a .npy file: it starts with "
            + (prefix.length == 0 ? "nothing" : "0x" + HexFormat.of().formatHex(prefix))
            + " (expected 0x934e554d5059, \\x93NUMPY)");
      }
    }
    if (prefix.length < MAGIC.length + 2) {
      throw error(name, "the file ends inside the .npy version");
    }
    int major = prefix[6] & 0xFF;
    int minor = prefix[7] & 0xFF;
    if (minor != 0 || major < 1 || major > 3) {
      throw error(name, String.format(
          "unsupported .npy format version %d.%d (expected 1.0, 2.0 or 3.0)", major, minor));
    }
    int lengthBytes = major == 1 ? 2 : 4;
    byte[] len = in.readNBytes(lengthBytes);
    if (len.length < lengthBytes) {
      throw error(name, "the file ends inside the header length");
    }
    long headerLength = 0;
    for (int i = lengthBytes - 1; i >= 0; i--) {
      headerLength = (headerLength << 8) | (len[i] & 0xFF);
    }
    long dataOffset = prefix.length + lengthBytes + headerLength;
    if (dataOffset % OLD_ALIGN != 0) {
      throw error(name, String.format("header length %d puts the data at offset %d, which is not"
          + " a multiple of %d (the format pads the header to %d)",
          headerLength, dataOffset, OLD_ALIGN, ALIGN));
    }
    if (length >= 0 && dataOffset > length) {
      throw headerPastEnd(name, headerLength, length - prefix.length - lengthBytes);
    }
    int toRead = (int) Math.min(headerLength, MAX_HEADER);
    byte[] headerBytes = in.readNBytes(toRead);
    if (headerBytes.length < toRead) {
      throw headerPastEnd(name, headerLength, headerBytes.length);
    }
    if (headerLength > toRead) {
      throw error(name, String.format("header length %d (expected at most %d)",
          headerLength, MAX_HEADER));
    }
    String header = decode(name, headerBytes,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

    Header h;
    try {
      h = Header.parse(header);
    } catch (IllegalArgumentException e) {
      throw error(name, e.getMessage() + " in header " + quote(header));
    }
    long expected;
    try {
      expected = Tensor.checkedNumel(h.dtype(), h.shape()) * h.dtype().size();
    } catch (IllegalArgumentException e) {
      throw error(name, e.getMessage());
    }
    if (length >= 0 && length - dataOffset != expected) {
      throw sizeMismatch(name, h, expected, length - dataOffset);
    }
    if (expected > Runtime.getRuntime().maxMemory()) {
      throw error(name, String.format("shape %s of %s needs %d bytes, more than the %d bytes of"
          + " heap this JVM may use (raise it with -Xmx)", Tensor.shapeString(h.shape()),
          h.descr(), expected, Runtime.getRuntime().maxMemory()));
    }
    Tensor t;
    if (length >= 0) {
      // The file holds exactly the bytes the header declares: the tensor can be made first and
      // filled in place.
      t = allocate(name, h, expected);
      ByteBuffer data = t.data();
      int got = in.readNBytes(data.array(), data.arrayOffset(), data.remaining());
      if (got < expected) {
        throw sizeMismatch(name, h, expected, got);
      }
    } else {
      // A stream's length is known only at its end: read what is there, which grows with the
      // bytes that arrive, and only then make the tensor, so a header that declares more than
      // follows allocates nothing for it.
      byte[] bytes = in.readNBytes((int) expected);
      if (bytes.length < expected) {
        throw sizeMismatch(name, h, expected, bytes.length);
      }
      t = Tensor.wrap(h.dtype(), h.shape(), ByteBuffer.wrap(bytes));
    }
    ByteBuffer data = t.data();
    if (in.read() >= 0) {
      long extra = 1 + in.transferTo(OutputStream.nullOutputStream());
      throw sizeMismatch(name, h, expected, expected + extra);
    }
    if (h.bigEndian()) {
      swapBytes(data, h.dtype().size());
    }
    return t;
  }

  /** A tensor for the data, or a clear error when the heap cannot hold it after all. */
  private static Tensor allocate(String name, Header h, long bytes) throws IOException {
    try {
      return Tensor.allocate(h.dtype(), h.shape());
    } catch (OutOfMemoryError e) {
      throw error(name, String.format("shape %s of %s needs %d bytes, more than the heap has free"
          + " (raise it with -Xmx)", Tensor.shapeString(h.shape()), h.descr(), bytes));
    }
  }

  /** Reverses the bytes of each {@code size}-byte element of {@code data}, in place. */
  private static void swapBytes(ByteBuffer data, int size) {
    switch (size) {
      case 2 -> {
        var v = data.asShortBuffer();
        for (int i = 0; i < v.limit(); i++) {
          v.put(i, Short.reverseBytes(v.get(i)));
        }
      }
      case 4 -> {
        var v = data.asIntBuffer();
        for (int i = 0; i < v.limit(); i++) {
          v.put(i, Integer.reverseBytes(v.get(i)));
        }
      }
      case 8 -> {
        var v = data.asLongBuffer();
        for (int i = 0; i < v.limit(); i++) {
          v.put(i, Long.reverseBytes(v.get(i)));
        }
      }
      default -> throw new IllegalStateException("no byte swap for elements of " + size + " bytes");
    }
  }

  private static IOException headerPastEnd(String name, long declared, long available) {
    return error(name, String.format(
        "header length %d runs past the end of the file (%d bytes follow the length)",
        declared, available));
  }

  private static IOException sizeMismatch(String name, Header h, long expected, long found) {
    String what = String.format("shape %s of %s needs %d data bytes, found %d",
        Tensor.shapeString(h.shape()), h.descr(), expected, found);
    return error(name, found < expected ? "truncated: " + what
        : (found - expected) + " bytes after the data: " + what
            + " (the header does not describe the data)");
  }

  private static String decode(String name, byte[] bytes, Charset charset) throws IOException {
    try {
      return charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw error(name, "the header is not valid " + charset.name());
    }
  }

  private static String quote(String header) {
    String s = header.strip();
    return s.length() > 200 ? "\"" + s.substring(0, 200) + "...\"" : "\"" + s + "\"";
  }

  private static IOException error(String name, String message) {
    return new IOException(name + ": " + message);
  }

  /**
   * Writes {@code t} as a .npy file, whole or not at all: into a temporary file beside it, then
   * renamed over {@code file}, so a failure half-way leaves any earlier file as it was.
   */
  public static void write(Path file, Tensor t) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
        write(out, t);
      }
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Writes {@code t} as a .npy file to {@code out}, leaving it open. */
  public static void write(OutputStream out, Tensor t) throws IOException {
    long[] shape = t.shape();
    StringBuilder dict = new StringBuilder("{'descr': '").append(t.dtype().npyDescr())
        .append("', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < shape.length; i++) {
      dict.append(i == 0 ? "" : ", ").append(shape[i]);
    }
    dict.append(shape.length == 1 ? ",), }" : "), }");
    if (shape.length > 0) {
      dict.append(" ".repeat(GROWTH_AXIS_MAX_DIGITS - Long.toString(shape[0]).length()));
    }
    int major = 1;
    int length = paddedLength(dict.length(), 2);
    if (length > MAX_HEADER_V1) {
      major = 2;
      length = paddedLength(dict.length(), 4);
    }
    byte[] header = new byte[MAGIC.length + 2 + (major == 1 ? 2 : 4) + length];
    ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) major).put((byte) 0);
    if (major == 1) {
      b.putShort((short) length);
    } else {
      b.putInt(length);
    }
    b.put(dict.toString().getBytes(StandardCharsets.US_ASCII));
    while (b.remaining() > 1) {
      b.put((byte) ' ');
    }
    b.put((byte) '\n');
    out.write(header);
    ByteBuffer data = t.data();
    if (data.hasArray()) {
      out.write(data.array(), data.arrayOffset(), data.remaining());
    } else {
      byte[] chunk = new byte[Math.min(data.remaining(), 1 << 16)];
      while (data.hasRemaining()) {
        int n = Math.min(chunk.length, data.remaining());
        data.get(chunk, 0, n);
        out.write(chunk, 0, n);
      }
    }
  }

  /**
   * The header length field's value for a dict of {@code dictLength} characters: the dict, at
   * least one space and a newline, so the data starts at a multiple of {@link #ALIGN}. Like NumPy,
   * a dict that would end exactly on the boundary gets a whole extra block of spaces.
   */
  private static int paddedLength(int dictLength, int lengthBytes) {
    int unpadded = dictLength + 1;
    int pad = ALIGN - (MAGIC.length + 2 + lengthBytes + unpadded) % ALIGN;
    return unpadded + pad;
  }

  /**
   * The descriptors read: NumPy's own for each type, and for the multi-byte types the big-endian
   * one too ({@code >f4}), whose data is turned around after reading.
   */
  private static String acceptedDescrs() {
    StringBuilder big = new StringBuilder();
    for (DType t : DType.values()) {
      if (t.size() > 1) {
        big.append(big.length() == 0 ? "" : ", ").append(bigEndianDescr(t));
      }
    }
    return DType.supportedDescrs() + ", or big-endian " + big;
  }

  private static String bigEndianDescr(DType t) {
    return ">" + t.npyDescr().substring(1);
  }

  /**
   * The three keys of a header, checked; {@code descr} as the file spells it, {@code bigEndian}
   * if the data must be turned around into {@code dtype}'s little-endian bytes.
   */
  private record Header(String descr, DType dtype, boolean bigEndian, long[] shape) {
    static Header parse(String text) {
      Object parsed = new Literal(text).parseAll();
      if (!(parsed instanceof Map<?, ?> dict)) {
        throw new IllegalArgumentException("the header is not a dict");
      }
      for (Object key : dict.keySet()) {
        if (!List.of("descr", "fortran_order", "shape").contains(key)) {
          throw new IllegalArgumentException("unexpected key " + Literal.repr(key)
              + " (expected 'descr', 'fortran_order' and 'shape')");
        }
      }
      Object descr = required(dict, "descr");
      Object fortran = required(dict, "fortran_order");
      Object shape = required(dict, "shape");
      DType dtype = null;
      boolean bigEndian = false;
      for (DType t : DType.values()) {
        if (t.npyDescr().equals(descr)) {
          dtype = t;
        } else if (t.size() > 1 && bigEndianDescr(t).equals(descr)) {
          dtype = t;
          bigEndian = true;
        }
      }
      if (dtype == null) {
        throw new IllegalArgumentException("unsupported dtype " + Literal.repr(descr)
            + " (expected one of " + acceptedDescrs() + ")");
      }
      if (!(fortran instanceof Boolean f)) {
        throw new IllegalArgumentException(
            "fortran_order is " + Literal.repr(fortran) + " (expected True or False)");
      }
      if (f) {
        throw new IllegalArgumentException(
            "Fortran-order data is not supported, only C order (fortran_order: False)");
      }
      if (!(shape instanceof Literal.Tuple tuple)) {
        throw new IllegalArgumentException(
            "shape is " + Literal.repr(shape) + " (expected a tuple of integers)");
      }
      long[] dims = new long[tuple.items().size()];
      for (int i = 0; i < dims.length; i++) {
        Object v = tuple.items().get(i);
        if (!(v instanceof Long dim) || dim < 0) {
          throw new IllegalArgumentException("shape " + Literal.repr(shape) + ": dimension " + i
              + " is " + Literal.repr(v) + " (expected an integer >= 0)");
        }
        dims[i] = dim;
      }
      return new Header((String) descr, dtype, bigEndian, dims);
    }

    private static Object required(Map<?, ?> dict, String key) {
      if (!dict.containsKey(key)) {
        throw new IllegalArgumentException("missing key '" + key + "'");
      }
      return dict.get(key);
    }
  }

  /**
   * A parser for the Python literals a header can hold: dicts, tuples, lists, strings, integers,
   * {@code True}, {@code False} and {@code None}. A tuple is told from a parenthesized value by
   * its comma, as in Python, so {@code (5)} is the integer 5 and {@code (5,)} a tuple.
   */
  private static final class Literal {
    record Tuple(List<Object> items) {}

    /** Python's {@code None}. */
    static final Object NONE = new Object();

    /**
     * The deepest nesting read. NumPy writes a dict holding a tuple, two levels; the limit
     * leaves room for any literal a header could sensibly hold and keeps the recursive parser
     * far from the end of the stack.
     */
    static final int MAX_DEPTH = 32;

    private final String s;
    private int pos;
    private int depth;

    Literal(String s) {
      this.s = s;
    }

    Object parseAll() {
      Object v = value();
      skipSpace();
      if (pos < s.length()) {
        throw unexpected("the end of the header");
      }
      return v;
    }

    private Object value() {
      skipSpace();
      if (pos >= s.length()) {
        throw unexpected("a value");
      }
      if (depth == MAX_DEPTH) {
        throw new IllegalArgumentException(String.format(
            "values nested %d deep at column %d (expected at most %d levels)", depth + 1, pos + 1,
            MAX_DEPTH));
      }
      depth++;
      try {
        return nested();
      } finally {
        depth--;
      }
    }

    private Object nested() {
      char c = s.charAt(pos);
      switch (c) {
        case '{' -> {
          pos++;
          Map<Object, Object> map = new LinkedHashMap<>();
          while (!peek('}')) {
            Object key = value();
            if (map.containsKey(key)) {
              throw new IllegalArgumentException("duplicate key " + repr(key));
            }
            expect(':');
            map.put(key, value());
            if (!peek('}')) {
              expect(',', "',' or '}'");
            }
          }
          pos++;
          return map;
        }
        case '(', '[' -> {
          pos++;
          char close = c == '(' ? ')' : ']';
          List<Object> items = new ArrayList<>();
          boolean comma = false;
          while (!peek(close)) {
            items.add(value());
            comma = false;
            if (!peek(close)) {
              expect(',', "',' or '" + close + "'");
              comma = true;
            }
          }
          pos++;
          if (c == '[') {
            return items;
          }
          return items.size() == 1 && !comma ? items.get(0) : new Tuple(items);
        }
        case '\'', '"' -> {
          return string(c);
        }
        default -> {
          if (c == '-' || c == '+' || isDigit(c)) {
            return integer();
          }
          int start = pos;
          while (pos < s.length() && Character.isLetterOrDigit(s.charAt(pos))) {
            pos++;
          }
          switch (s.substring(start, pos)) {
            case "True" -> {
              return Boolean.TRUE;
            }
            case "False" -> {
              return Boolean.FALSE;
            }
            case "None" -> {
              return NONE;
            }
            default -> {
              pos = start;
              throw unexpected("a value");
            }
          }
        }
      }
    }

    private String string(char quote) {
      StringBuilder sb = new StringBuilder();
      int start = pos++;
      while (pos < s.length() && s.charAt(pos) != quote) {
        char c = s.charAt(pos++);
        if (c == '\\' && pos < s.length()) {
          c = s.charAt(pos++);
        }
        sb.append(c);
      }
      if (pos >= s.length()) {
        pos = start;
        throw new IllegalArgumentException("unterminated string at column " + (pos + 1));
      }
      pos++;
      return sb.toString();
    }

    private Object integer() {
      int start = pos;
      if (s.charAt(pos) == '-' || s.charAt(pos) == '+') {
        pos++;
      }
      int digits = pos;
      while (pos < s.length() && isDigit(s.charAt(pos))) {
        pos++;
      }
      if (pos == digits) {
        pos = start;
        throw unexpected("a value");
      }
      String text = s.substring(start, pos);
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        pos = start;
        throw new IllegalArgumentException("integer " + text + " at column " + (pos + 1)
            + " does not fit 64 bits");
      }
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }

    private boolean peek(char c) {
      skipSpace();
      return pos < s.length() && s.charAt(pos) == c;
    }

    private void expect(char c) {
      expect(c, "'" + c + "'");
    }

    private void expect(char c, String expected) {
      skipSpace();
      if (pos >= s.length() || s.charAt(pos) != c) {
        throw unexpected(expected);
      }
      pos++;
    }

    private void skipSpace() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    private IllegalArgumentException unexpected(String expected) {
      if (pos >= s.length()) {
        return new IllegalArgumentException("found the end (expected " + expected + ")");
      }
      return new IllegalArgumentException(String.format(
          "found '%c' at column %d (expected %s)", s.charAt(pos), pos + 1, expected));
    }

    /** A value as Python would print it, for messages. */
    static String repr(Object v) {
      if (v instanceof String str) {
        return "'" + str + "'";
      }
      if (v instanceof Boolean b) {
        return b ? "True" : "False";
      }
      if (v == NONE) {
        return "None";
      }
      if (v instanceof Tuple t) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < t.items().size(); i++) {
          sb.append(i == 0 ? "" : ", ").append(repr(t.items().get(i)));
        }
        return sb.append(t.items().size() == 1 ? ",)" : ")").toString();
      }
      if (v instanceof List<?> list) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < list.size(); i++) {
          sb.append(i == 0 ? "" : ", ").append(repr(list.get(i)));
        }
        return sb.append(']').toString();
      }
      if (v instanceof Map<?, ?> map) {
        StringBuilder sb = new StringBuilder("{");
        map.forEach((k, x) -> sb.append(sb.length() == 1 ? "" : ", ").append(repr(k))
            .append(": ").append(repr(x)));
        return sb.append('}').toString();
      }
      return String.valueOf(v);
    }
  }
}
