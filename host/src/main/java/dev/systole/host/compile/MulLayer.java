package dev.systole.host.compile;

/**
 * The elementwise product of two int8 tensors into an int8 output (the contract's VMUL, 7.5):
 * {@code out = clamp(zeroPoint + rne((a - za) * (b - zb) * multiplier / 2^shift))}, the
 * multiplier being {@code s_a * s_b / s_out} in fixed point. With {@code perChannel}, b is one
 * value per channel ({@code 1 x 1 x C}) for every pixel of a: the gate of a squeeze-excitation
 * block.
 */
public record MulLayer(int multiplier, int shift, int zeroPoint, boolean perChannel)
    implements DeviceLayer {
  public MulLayer {
    if (shift < 0 || shift > 63) {
      throw new IllegalArgumentException("mul: shift " + shift + " (expected 0 to 63)");
    }
    if (zeroPoint < -128 || zeroPoint > 127) {
      throw new IllegalArgumentException("mul: zero point " + zeroPoint
          + " (expected -128 to 127)");
    }
  }

  @Override
  public String describe() {
    return perChannel ? "mul per channel" : "mul";
  }
}
