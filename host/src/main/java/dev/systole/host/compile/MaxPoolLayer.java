package dev.systole.host.compile;

/**
 * Max pooling with ONNX MaxPool's attributes (kernel, strides, pads, dilations, ceil mode) on
 * int8 data: dequantization is increasing, so the maximum of the int8 values is the int8 value of
 * the maximum and the output keeps the input's zero point. On the device each window position is
 * one LOAD padded with -128 (which never wins) and the positions are reduced with VMAX, channel
 * lanes separately. Every output window must hold at least one real input element (ONNX requires
 * pads smaller than the kernel for the same reason); the graph checks it for the input's shape.
 */
public record MaxPoolLayer(Window window, boolean ceilMode) implements DeviceLayer {
  public MaxPoolLayer {
    if (window == null) {
      throw new IllegalArgumentException("max pool without a window");
    }
  }

  public static MaxPoolLayer of(int kernel, int stride, int pad) {
    return new MaxPoolLayer(Window.of(kernel, stride, pad), false);
  }

  @Override
  public String describe() {
    return "maxpool " + window + (ceilMode ? " ceil" : "");
  }
}
