package dev.systole.host.cpu;

import dev.systole.host.graph.ModelException;
import dev.systole.host.graph.Node;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The kernels an {@link Interpreter} runs, by op type. The registry is immutable: {@link #with}
 * returns a new one, so a caller can put its own kernel in front of an op (a device kernel, an
 * instrumented one for a test) without affecting anyone else's interpreter.
 */
public final class KernelRegistry {
  private static final KernelRegistry STANDARD = new KernelRegistry(standardKernels());

  private final Map<String, OpKernel> kernels;

  private KernelRegistry(Map<String, OpKernel> kernels) {
    this.kernels = Collections.unmodifiableMap(kernels);
  }

  /** The CPU kernels of every op the graph IR supports. */
  public static KernelRegistry standard() {
    return STANDARD;
  }

  /** This registry with {@code kernel} for {@code opType}, replacing any there. */
  public KernelRegistry with(String opType, OpKernel kernel) {
    Map<String, OpKernel> m = new TreeMap<>(kernels);
    m.put(opType, kernel);
    return new KernelRegistry(m);
  }

  public Optional<OpKernel> get(String opType) {
    return Optional.ofNullable(kernels.get(opType));
  }

  /**
   * The kernel for {@code node}.
   *
   * @throws ModelException if the registry has none, naming the node
   */
  OpKernel kernel(Node node) {
    OpKernel k = kernels.get(node.opType());
    if (k == null) {
      throw ModelException.atNode(node, "no kernel for op " + node.opType() + " (kernels: "
          + String.join(", ", kernels.keySet()) + ")");
    }
    return k;
  }

  /** The op types with a kernel, sorted. */
  public Set<String> opTypes() {
    return kernels.keySet();
  }

  private static Map<String, OpKernel> standardKernels() {
    Map<String, OpKernel> m = new TreeMap<>();
    for (String op : new String[] {"Add", "Sub", "Mul", "Div"}) {
      m.put(op, ElementwiseKernels::binary);
    }
    m.put("Relu", ElementwiseKernels::relu);
    m.put("Sigmoid", ElementwiseKernels::sigmoid);
    m.put("Clip", ElementwiseKernels::clip);
    m.put("Conv", ConvKernels::conv);
    m.put("ConvInteger", ConvKernels::convInteger);
    m.put("QLinearConv", ConvKernels::qlinearConv);
    m.put("MatMul", MatMulKernels::matmul);
    m.put("Gemm", MatMulKernels::gemm);
    m.put("MatMulInteger", MatMulKernels::matmulInteger);
    m.put("QLinearMatMul", MatMulKernels::qlinearMatmul);
    m.put("MaxPool", PoolKernels::maxPool);
    m.put("AveragePool", PoolKernels::averagePool);
    m.put("GlobalAveragePool", PoolKernels::globalAveragePool);
    m.put("BatchNormalization", NormKernels::batchNorm);
    m.put("Softmax", NormKernels::softmax);
    m.put("QuantizeLinear", QuantKernels::quantize);
    m.put("DequantizeLinear", QuantKernels::dequantize);
    for (String op : new String[] {"Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity"}) {
      m.put(op, ShapeKernels::view);
    }
    m.put("Dropout", ShapeKernels::dropout);
    m.put("Transpose", ShapeKernels::transpose);
    m.put("Concat", ShapeKernels::concat);
    m.put("Gather", ShapeKernels::gather);
    m.put("Constant", ShapeKernels::constant);
    m.put("Shape", ShapeKernels::shape);
    return m;
  }
}
