package dev.systole.host.cli.diag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {
  @Test
  void nestedValuesAreIndentedTwoSpacesInTheirOrderAndEmptyOnesStayOnTheirLine() {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("schema", 1);
    doc.put("ok", true);
    doc.put("open_error", null);
    doc.put("boards", List.of());
    doc.put("figures", Map.of());
    doc.put("nodes", List.of("user", "h2c_0"));
    doc.put("link", new LinkedHashMap<>(Map.of("state", "ok")));
    doc.put("tests", List.of(List.of(1L), Map.of("name", "hbm")));
    assertEquals("""
        {
          "schema": 1,
          "ok": true,
          "open_error": null,
          "boards": [],
          "figures": {},
          "nodes": [
            "user",
            "h2c_0"
          ],
          "link": {
            "state": "ok"
          },
          "tests": [
            [
              1
            ],
            {
              "name": "hbm"
            }
          ]
        }""", Json.write(doc));
  }

  @Test
  void compactIsOneLineWithoutSpaces() {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("bench", "gemm");
    doc.put("m", 16);
    doc.put("none", Arrays.asList(null, false));
    doc.put("empty", Map.of());
    doc.put("utilization", 0.0608365019);
    assertEquals("{\"bench\":\"gemm\",\"m\":16,\"none\":[null,false],\"empty\":{},"
        + "\"utilization\":0.0608365}", Json.writeCompact(doc));
  }

  @Test
  void realNumbersKeepSixSignificantDigitsWithoutAnExponentAndIntegersAllTheirs() {
    assertEquals("0.333333", Json.write(1 / 3.0));
    assertEquals("301.928", Json.write(301.92831));
    assertEquals("1234570", Json.write(1234567.0));
    assertEquals("0.0000001", Json.write(1e-7));
    assertEquals("-0.00000000025", Json.write(-2.5e-10));
    assertEquals("1000000000000000000000", Json.write(1e21));
    assertEquals("0", Json.write(0.0));
    assertEquals("0", Json.write(-0.0));
    assertEquals("2.5", Json.write(2.5));
    assertEquals("0.1", Json.write(0.1f));
    assertEquals("9223372036854775807", Json.write(Long.MAX_VALUE));
    assertEquals("-2147483648", Json.write(Integer.MIN_VALUE));
  }

  @Test
  void nonFiniteNumbersAreNull() {
    assertEquals("[\n  null,\n  null,\n  null\n]", Json.write(List.of(Double.NaN,
        Double.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY)));
  }

  @Test
  void quotesBackslashesAndControlCharactersAreEscaped() {
    assertEquals("\"say \\\"hi\\\" C:\\\\dir\\\\\"", Json.write("say \"hi\" C:\\dir\\"));
    assertEquals("\"\\n\\r\\t\\b\\f\"", Json.write("\n\r\t\b\f"));
    assertEquals("\"\\u0000\\u0001\\u001F\"", Json.write("\u0000\u0001\u001f"));
    assertEquals("\"/ \u007f\"", Json.write("/ \u007f"), "JSON does not escape these");
  }

  @Test
  void charactersOutsideAsciiAreEscapedSoTheOutputIsAscii() {
    assertEquals("\"caf\\u00E9 \\u2028 \\uD83D\\uDE00\"", Json.write("café \u2028 😀"));
    String doc = Json.write(Map.of("répertoire", "/tmp/données"));
    assertTrue(doc.chars().allMatch(c -> c < 0x80), doc);
    assertEquals("{\n  \"r\\u00E9pertoire\": \"/tmp/donn\\u00E9es\"\n}", doc);
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain", "", "quote \" and backslash \\", "line\nbreak\r\ttab",
      "\u0000\u0007\u001b[31m\u007f", "é ü ß 中文 😀 \u2028\u2029", "\\u0041 stays six characters"})
  void aStringReadsBackAsItWasWrittenAsAValueAndAsAKey(String s) throws IOException {
    assertEquals(s, readString(Json.write(s)));
    assertEquals(s, readString(Json.writeCompact(List.of(s))));
    try (JsonParser p = new JsonFactory().createParser(Json.write(Map.of(s, 1)))) {
      assertEquals(JsonToken.START_OBJECT, p.nextToken());
      assertEquals(JsonToken.FIELD_NAME, p.nextToken());
      assertEquals(s, p.currentName());
    }
  }

  @Test
  void otherTypesAreRefusedNamingTheType() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Json.write(List.of(new StringBuilder("x"))));
    assertEquals("no JSON form for java.lang.StringBuilder (expected a Map, List, String,"
        + " Integer, Long, Double, Float, Boolean or null)", e.getMessage());
  }

  /** The one string in {@code json}, as a JSON parser reads it, within an array or alone. */
  private static String readString(String json) throws IOException {
    try (JsonParser p = new JsonFactory().createParser(json)) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.START_ARRAY) {
        t = p.nextToken();
      }
      assertEquals(JsonToken.VALUE_STRING, t, json);
      return p.getText();
    }
  }
}
