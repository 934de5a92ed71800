package dev.systole.host.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DTypeTest {
  @Test
  void sizesAndDescriptorsAreNumpys() {
    assertEquals(1, DType.INT8.size());
    assertEquals(1, DType.UINT8.size());
    assertEquals(4, DType.INT32.size());
    assertEquals(8, DType.INT64.size());
    assertEquals(4, DType.FLOAT32.size());
    assertEquals("|i1", DType.INT8.npyDescr());
    assertEquals("|u1", DType.UINT8.npyDescr());
    assertEquals("<i4", DType.INT32.npyDescr());
    assertEquals("<i8", DType.INT64.npyDescr());
    assertEquals("<f4", DType.FLOAT32.npyDescr());
    assertEquals(1, DType.BOOL.size());
    assertEquals("|b1", DType.BOOL.npyDescr());
    assertEquals(2, DType.FLOAT16.size());
    assertEquals(8, DType.FLOAT64.size());
    assertEquals("<f2", DType.FLOAT16.npyDescr());
    assertEquals("<f8", DType.FLOAT64.npyDescr());
    assertEquals("float16", DType.FLOAT16.label());
    assertEquals("float64", DType.FLOAT64.label());
    for (DType t : DType.values()) {
      assertEquals(t, DType.fromNpyDescr(t.npyDescr()));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"<i1", "i1", "<b1", ">i4", "i4", ">f8", "f8", "<c8", "<u4", "<f16", ""})
  void otherDescriptorsAreRefusedWithTheSupportedList(String descr) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DType.fromNpyDescr(descr));
    assertEquals("unsupported dtype '" + descr
        + "' (expected one of |i1, |u1, <i4, <i8, <f2, <f4, <f8, |b1)", e.getMessage());
  }
}
