package dev.systole.host.compile;

/**
 * A layer a {@link DeviceGraph} runs on the array or its vector unit: a convolution, a GEMM
 * (fully connected), max pooling, a residual add, a depthwise convolution, a mean, a
 * function by table, a product, a per-channel affine map, a layer normalization, a softmax, a
 * product of two activations, a gather into order, a nearest upsampling, a spread of pixels
 * (for a transposed convolution), a reduction of each pixel's channels, or a concatenation or
 * slice of channels. Layers hold integers only (weights, biases,
 * fixed-point multipliers, zero points); mapping a quantized model onto them is the caller's job.
 */
public sealed interface DeviceLayer permits ConvLayer, GemmLayer, MaxPoolLayer, AddLayer,
    DepthwiseLayer, MeanLayer, TableLayer, MulLayer, ConcatLayer, SliceLayer, ScaleLayer,
    NormLayer, SoftmaxLayer, ProductLayer, CopyLayer, ResizeLayer, SpreadLayer,
    ChannelReduceLayer {
  /** One line for reports, for example {@code conv 3x3 pads 1,1,1,1 16->32 relu}. */
  String describe();
}
