package dev.systole.host.partition;

import dev.systole.host.quantize.QuantParams;
import dev.systole.host.tensor.DType;

/**
 * How a model value is represented in card memory, where every activation is int8 (or, for a
 * layer that ends a device program without requantization, int32): a float value as int8 codes
 * of its quantization, a uint8 value shifted by -128 (exactly, with its zero point shifted too),
 * an int8 value as is, and a layer's int32 accumulators either as they are (an integer model's
 * ConvInteger or MatMulInteger output) or scaled per channel back to float.
 */
public sealed interface Encoding {
  /** The ONNX element type of the value on the host. */
  DType hostType();

  /** A float32 value as int8 codes: {@code real = scale * (q - zeroPoint)}. */
  record Quantized(QuantParams params) implements Encoding {
    @Override
    public DType hostType() {
      return DType.FLOAT32;
    }
  }

  /** A uint8 or int8 value; uint8 is stored as {@code u - 128}. */
  record Integer8(boolean unsigned) implements Encoding {
    @Override
    public DType hostType() {
      return unsigned ? DType.UINT8 : DType.INT8;
    }

    int offset() {
      return unsigned ? 128 : 0;
    }
  }

  /**
   * int32 accumulators: as int32 when {@code scales} is null, else float32 {@code acc *
   * scales[channel]} (the bias is already in the accumulator).
   */
  record Accumulator(float[] scales) implements Encoding {
    @Override
    public DType hostType() {
      return scales == null ? DType.INT32 : DType.FLOAT32;
    }
  }
}
