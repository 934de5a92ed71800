package dev.systole.host.compile;

import dev.systole.driver.contract.DeviceParams;
import dev.systole.driver.contract.Instruction;
import dev.systole.driver.contract.Opcode;
import dev.systole.driver.timing.OrderingCheck;
import dev.systole.host.compile.DeviceGraph.Kind;
import dev.systole.host.compile.DeviceGraph.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Compiles a {@link DeviceGraph} for a batch into one device program: the layers in graph order,
 * each reading its inputs from card memory and writing its output there, a FENCE between layers
 * and a HALT at the end. Convolutions and GEMMs go through {@link MatmulEmitter}, which tiles
 * them and overlaps their loads with compute; pooling and adds through {@link VectorEmitter}. A
 * chain of GEMM layers is compiled here too, as the graph it is ({@link LayerGraph#deviceGraph()}).
 *
 * <p><b>Residual adds.</b> An add right after the convolution or GEMM that is the only reader of
 * one of its inputs (not a graph output) is done in that layer's epilogue, a VADD per output
 * tile ({@link MatmulEmitter.Residual}): the layer's own output is never stored, and the add
 * has no instructions of its own. On a build with a VECTOR unit the VADD overlaps the array's
 * next tile, where an add layer of its own would load both tensors again with the array idle.
 *
 * <p><b>Why a FENCE per layer.</b> A layer reads what the one before wrote to card memory, and
 * the FENCE is the one instruction that orders every unit; it costs one drain of the pipeline per
 * layer, which is small next to a layer's work. It also makes each layer's cycles well defined:
 * the timing model gives the cycle at which every FENCE issues, so a layer's estimate is the gap
 * between the FENCEs around it, and a program cut off after any layer (its FENCE replaced by a
 * HALT) measures the same gap on a device.
 */
public final class GraphCompiler {
  private GraphCompiler() {}

  /**
   * Card addresses of every node's output tensor (for an input, where the input is), weight
   * tiles and constants, indexed like {@link DeviceGraph#nodes()}; unused entries are ignored.
   */
  public record Placement(long[] outputs, long[] weights, long[] constants) {
    public Placement {
      outputs = outputs.clone();
      weights = weights.clone();
      constants = constants.clone();
    }

    public long output(Node n) {
      return outputs[n.index()];
    }
  }

  /**
   * How one layer was compiled: its instructions {@code [first, end)} (end is the FENCE or HALT
   * after it), the multiply-accumulates it means and those the array does, padding included,
   * and the timing model's cycles for it. {@code matmul} is the tiling of a CONV or GEMM node.
   * {@code fusedInto} is the layer whose epilogue does this one (then it has no instructions and
   * no cycles of its own), or null; {@code stored} is false for a layer whose output an add in
   * its epilogue consumed instead of storing it.
   */
  public record NodePlan(Node node, int first, int end, long usefulMacs, long arrayMacs,
      long estimatedCycles, MatmulPlan matmul, Node fusedInto, boolean stored) {
    /** Useful MACs over what the array could do in the layer's cycles. */
    public double utilization(DeviceParams p) {
      return estimatedCycles == 0 ? 0 : usefulMacs / ((double) estimatedCycles
          * p.macsPerCycle());
    }
  }

  /** A compiled program and its layers, in order. */
  public record Program(List<Instruction> instructions, List<NodePlan> nodes, int batch) {
    /** The timing model's cycles for the whole program (the sum over its layers). */
    public long estimatedCycles() {
      return nodes.stream().mapToLong(NodePlan::estimatedCycles).sum();
    }

    public long usefulMacs() {
      return nodes.stream().mapToLong(NodePlan::usefulMacs).sum();
    }

    /** The program cut after layer {@code i}: its instructions up to there, then HALT. */
    public List<Instruction> prefix(int i) {
      List<Instruction> p = new ArrayList<>(instructions.subList(0, nodes.get(i).end()));
      p.add(Instruction.of(Opcode.HALT));
      return p;
    }
  }

  /** Card bytes of a node's weight tiles on a device of {@code d} lanes (0 if none). */
  public static byte[] weights(Node n, int d) {
    return switch (n.kind()) {
      case CONV, GEMM -> WeightLayout.tiles(n.matmul(d), d);
      case DEPTHWISE -> VectorEmitter.depthwiseWeights((DepthwiseLayer) n.layer(), d);
      default -> new byte[0];
    };
  }

  /**
   * Card bytes of a node's constants: its requant or bias rows and, for a convolution lowered to
   * windows, a row of D input zero points (for windows wholly in the padding).
   */
  public static byte[] constants(Node n, int d) {
    if (n.kind() == Kind.DEPTHWISE || n.kind() == Kind.MEAN || n.kind() == Kind.TABLE
        || n.kind() == Kind.CONCAT || n.kind() == Kind.SLICE || n.kind() == Kind.SCALE
        || n.kind() == Kind.NORM || n.kind() == Kind.SOFTMAX
        || n.kind() == Kind.CHANNEL_REDUCE) {
      return VectorEmitter.constants(n, d);
    }
    if (n.kind() == Kind.PRODUCT) {
      return ProductEmitter.constants((ProductLayer) n.layer(), d);
    }
    if (n.kind() != Kind.CONV && n.kind() != Kind.GEMM) {
      return new byte[0];
    }
    byte[] c = WeightLayout.constants(n.matmul(d), d);
    if (n.kind() == Kind.CONV && !n.convAsMatrix()) {
      c = Arrays.copyOf(c, c.length + d);
      Arrays.fill(c, c.length - d, c.length, (byte) n.inputs().get(0).zeroPoint());
    }
    return c;
  }

  public static Program compile(DeviceGraph g, int batch, DeviceParams p, Placement at) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch of " + batch + " (expected at least 1)");
    }
    int d = p.lanes();
    List<Instruction> out = new ArrayList<>();
    List<Node> layers = g.layers();
    Node[] fusedInto = residualAdds(g);
    int[] first = new int[layers.size()];
    long[] useful = new long[layers.size()];
    MatmulPlan[] plans = new MatmulPlan[layers.size()];
    int[] ends = new int[layers.size()];
    for (int i = 0; i < layers.size(); i++) {
      Node n = layers.get(i);
      first[i] = out.size();
      if (fusedInto[n.index()] != null) {
        // Done in the epilogue of the layer before, which ended with its FENCE.
        first[i] = ends[i - 1];
        ends[i] = ends[i - 1];
        continue;
      }
      long x = at.output(n.inputs().get(0));
      long y = at.output(n);
      Node add = i + 1 < layers.size() && fusedInto[layers.get(i + 1).index()] == n
          ? layers.get(i + 1) : null;
      MatmulEmitter.Residual residual = null;
      if (add != null) {
        boolean isA = add.inputs().get(0) == n;
        Node other = add.inputs().get(isA ? 1 : 0);
        residual = new MatmulEmitter.Residual(at.output(other), (AddLayer) add.layer(), isA,
            other.zeroPoint());
        y = at.output(add);
      }
      switch (n.kind()) {
        case CONV, GEMM -> {
          GemmLayer layer = n.matmul(d);
          Activations source;
          int usefulK;
          DeviceGraph.Shape in = n.inputs().get(0).shape();
          if (n.kind() == Kind.GEMM) {
            source = new RowMajorActivations(x, batch, layer.inFeatures(), d);
            usefulK = layer.inFeatures();
          } else {
            ConvLayer conv = (ConvLayer) n.layer();
            Window w = conv.window();
            usefulK = w.kernelH() * w.kernelW() * conv.inChannels();
            if (n.convAsMatrix()) {
              long pixels = batch * n.shape().size() / conv.outChannels();
              if (pixels > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("conv '" + n.name() + "' of " + pixels
                    + " output pixels (expected at most " + Integer.MAX_VALUE + " per run)");
              }
              source = new RowMajorActivations(x, (int) pixels, layer.inFeatures(), d);
            } else {
              source = new ConvWindows(x, batch, in.height(), in.width(), in.channels(), w, d,
                  n.inputs().get(0).zeroPoint(), at.constants()[n.index()]
                  + WeightLayout.constantBytes(layer, d));
            }
          }
          plans[i] = new MatmulEmitter(out, p, layer, source, usefulK, y,
              at.weights()[n.index()], at.constants()[n.index()], residual).emit();
          useful[i] = (long) plans[i].m() * plans[i].k() * plans[i].n();
        }
        case MAX_POOL -> VectorEmitter.maxPool(out, p, n, batch, x, y);
        case ADD -> VectorEmitter.add(out, p, n, batch, x, at.output(n.inputs().get(1)), y);
        case DEPTHWISE -> {
          VectorEmitter.depthwise(out, p, n, batch, x, y, at.weights()[n.index()],
              at.constants()[n.index()]);
          DepthwiseLayer dw = (DepthwiseLayer) n.layer();
          useful[i] = (long) batch * n.shape().size() * dw.positions();
        }
        case MEAN -> VectorEmitter.mean(out, p, n, batch, x, y, at.constants()[n.index()]);
        case TABLE -> VectorEmitter.table(out, p, n, batch, x, y, at.constants()[n.index()]);
        case MUL -> VectorEmitter.mul(out, p, n, batch, x, at.output(n.inputs().get(1)), y);
        case CONCAT -> VectorEmitter.concat(out, p, n, batch, at, at.constants()[n.index()]);
        case SLICE -> VectorEmitter.slice(out, p, n, batch, x, y, at.constants()[n.index()]);
        case SCALE -> VectorEmitter.scale(out, p, n, batch, x, y, at.constants()[n.index()]);
        case NORM -> VectorEmitter.norm(out, p, n, batch, x, y, at.constants()[n.index()]);
        case SOFTMAX -> VectorEmitter.softmax(out, p, n, batch, x, y,
            at.constants()[n.index()]);
        case COPY -> VectorEmitter.copy(out, p, n, batch, x, y);
        case RESIZE -> VectorEmitter.resize(out, p, n, batch, x, y);
        case SPREAD -> VectorEmitter.spread(out, p, n, batch, x, y);
        case CHANNEL_REDUCE -> VectorEmitter.channelReduce(out, p, n, batch, x, y,
            at.constants()[n.index()]);
        case PRODUCT -> {
          ProductEmitter.emit(out, p, n, batch, x, at.output(n.inputs().get(1)), y,
              at.constants()[n.index()]);
          useful[i] = ((ProductLayer) n.layer()).macs();
        }
        case INPUT -> throw new IllegalStateException("inputs are not layers");
      }
      ends[i] = out.size();
      out.add(Instruction.of(Opcode.FENCE));
    }
    out.set(out.size() - 1, Instruction.of(Opcode.HALT));
    assert ordered(out, p);
    long[] issue = TimingModel.issueTimes(out, p);
    List<NodePlan> nodes = new ArrayList<>();
    long before = 0;
    for (int i = 0; i < layers.size(); i++) {
      long after = issue[ends[i]] + 1;
      Node n = layers.get(i);
      boolean stored = i + 1 == layers.size() || fusedInto[layers.get(i + 1).index()] != n;
      nodes.add(new NodePlan(n, first[i], ends[i], useful[i],
          plans[i] == null ? 0 : plans[i].macs(), after - before, plans[i],
          fusedInto[n.index()], stored));
      before = after;
    }
    return new Program(List.copyOf(out), List.copyOf(nodes), batch);
  }

  /**
   * Whether {@code program} orders every pair of conflicting accesses (CONTRACT.md 5.2), checked
   * where assertions are on (the tests): the emulator runs each instruction whole as it issues,
   * so a missing wait would pass every comparison of bytes there and fail on a board.
   *
   * @throws IllegalStateException naming the races
   */
  private static boolean ordered(List<Instruction> program, DeviceParams p) {
    OrderingCheck.Report races = OrderingCheck.check(program, p);
    if (!races.ok()) {
      throw new IllegalStateException("the compiled program leaves conflicting accesses"
          + " unordered:\n" + races);
    }
    return true;
  }

  /**
   * For each add done in the epilogue of the layer before it, that layer, by node index: an add
   * whose input is the int8 output of the CONV or GEMM layer right before it, read by nothing
   * else and not a graph output. The other input was made earlier (layers are in graph order).
   */
  private static Node[] residualAdds(DeviceGraph g) {
    Node[] fused = new Node[g.nodes().size()];
    int[] readers = new int[g.nodes().size()];
    for (Node n : g.nodes()) {
      for (Node in : n.inputs()) {
        readers[in.index()]++;
      }
    }
    List<Node> layers = g.layers();
    for (int i = 1; i < layers.size(); i++) {
      Node add = layers.get(i);
      Node before = layers.get(i - 1);
      if (add.kind() == Kind.ADD && add.inputs().contains(before)
          && add.inputs().get(0) != add.inputs().get(1)
          && (before.kind() == Kind.CONV || before.kind() == Kind.GEMM)
          && before.int8Output() && readers[before.index()] == 1
          && !g.outputs().contains(before)
          && before.shape().equals(add.shape())) {
        fused[add.index()] = before;
      }
    }
    return fused;
  }

  /**
   * The program for a batch on a device with parameters {@code p}, placed at addresses such as a
   * session would use (every region 4 KiB-aligned), for its instruction count and the timing
   * model's cycles per layer without a device. The timing model depends on addresses only
   * through their alignment, so these are the cycles a session's program takes too.
   */
  public static Program estimate(DeviceGraph g, int batch, DeviceParams p) {
    int n = g.nodes().size();
    long[] outputs = new long[n];
    long[] weights = new long[n];
    long[] constants = new long[n];
    long next = 0;
    int d = p.lanes();
    for (Node node : g.nodes()) {
      outputs[node.index()] = next;
      next = align(next + node.outputBytes(batch));
      weights[node.index()] = next;
      next = align(next + Math.max(1, weights(node, d).length));
      constants[node.index()] = next;
      next = align(next + Math.max(1, constants(node, d).length));
    }
    return compile(g, batch, p, new Placement(outputs, weights, constants));
  }

  private static long align(long a) {
    return (a + 4095) & ~4095L;
  }
}
