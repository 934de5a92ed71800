package dev.systole.host.cli.diag;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one way the command line writes JSON: maps, lists, strings, numbers, booleans and nulls,
 * through Jackson's streaming generator. Commands build their output as ordered maps
 * ({@link java.util.LinkedHashMap}) so that keys come out in the order host/DIAGNOSTICS.md
 * documents; this class decides the layout, so no command formats JSON text itself. A real
 * number keeps six significant digits, written plainly (never with an exponent), and a NaN or an
 * infinity, which JSON has no number for, is null. Characters outside ASCII are written as
 * escapes (an é as <code>&#92;u00E9</code>): the output is then ASCII, and a path or a message
 * reads back the same whatever the charset of the stream it is printed to. Jackson's generator
 * rather than its data binding: the values are already maps and lists, and the generator is a
 * third of the size and needs no reflection.
 */
public final class Json {
  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
      .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
      .build();
  private static final MathContext SIX_DIGITS = new MathContext(6);
  private static final DefaultIndenter TWO_SPACES = new DefaultIndenter("  ", "\n");
  private static final DefaultPrettyPrinter INDENTED = new DefaultPrettyPrinter(
      Separators.createDefaultInstance()
          .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
          .withObjectEmptySeparator("")
          .withArrayEmptySeparator(""))
      .withObjectIndenter(TWO_SPACES)
      .withArrayIndenter(TWO_SPACES);

  private Json() {}

  /**
   * {@code value} as JSON text, each member and element on its own line indented two spaces per
   * level, ending without a newline; an empty map or list stays on its line ({@code {}},
   * {@code []}).
   */
  public static String write(Object value) {
    return write(value, true);
  }

  /**
   * {@code value} as JSON on one line without spaces, for output read by programs one object per
   * line (the benchmarks').
   */
  public static String writeCompact(Object value) {
    return write(value, false);
  }

  private static String write(Object value, boolean indented) {
    StringWriter text = new StringWriter();
    try (JsonGenerator g = FACTORY.createGenerator(text)) {
      if (indented) {
        g.setPrettyPrinter(INDENTED.createInstance());
      }
      write(g, value);
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON to a string", e);
    }
    return text.toString();
  }

  /**
   * JSON text as the values {@link #write} takes: objects as ordered maps, arrays as lists,
   * integers as {@code Long}, other numbers as {@code Double}, and strings, booleans and null.
   *
   * @throws IllegalArgumentException naming the line and column where the text is not JSON
   */
  public static Object read(String text) {
    try (JsonParser p = FACTORY.createParser(text)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        throw new IllegalArgumentException("empty text (expected a JSON value)");
      }
      Object value = read(p);
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("text after the JSON value at line "
            + p.currentLocation().getLineNr());
      }
      return value;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage() + " at line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("reading JSON from a string", e);
    }
  }

  private static Object read(JsonParser p) throws IOException {
    switch (p.currentToken()) {
      case START_OBJECT -> {
        Map<String, Object> m = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          m.put(name, read(p));
        }
        return m;
      }
      case START_ARRAY -> {
        List<Object> l = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          l.add(read(p));
        }
        return l;
      }
      case VALUE_STRING -> {
        return p.getText();
      }
      case VALUE_NUMBER_INT -> {
        return p.getLongValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        return p.getDoubleValue();
      }
      case VALUE_TRUE -> {
        return true;
      }
      case VALUE_FALSE -> {
        return false;
      }
      default -> {
        return null;
      }
    }
  }

  private static void write(JsonGenerator g, Object value) throws IOException {
    if (value == null) {
      g.writeNull();
    } else if (value instanceof String s) {
      g.writeString(s);
    } else if (value instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (value instanceof Integer i) {
      g.writeNumber(i);
    } else if (value instanceof Long l) {
      g.writeNumber(l);
    } else if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      if (Double.isFinite(d)) {
        g.writeNumber(new BigDecimal(d).round(SIX_DIGITS).stripTrailingZeros());
      } else {
        g.writeNull();
      }
    } else if (value instanceof Map<?, ?> map) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        write(g, e.getValue());
      }
      g.writeEndObject();
    } else if (value instanceof List<?> list) {
      g.writeStartArray();
      for (Object o : list) {
        write(g, o);
      }
      g.writeEndArray();
    } else {
      throw new IllegalArgumentException("no JSON form for " + value.getClass().getName()
          + " (expected a Map, List, String, Integer, Long, Double, Float, Boolean or null)");
    }
  }
}
