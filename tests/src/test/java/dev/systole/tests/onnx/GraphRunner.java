package dev.systole.tests.onnx;

import dev.systole.host.graph.Graph;
import dev.systole.host.tensor.Tensor;
import java.util.Map;

/**
 * One way of running a model, as the conformance suite sees it: the CPU engine, or a path
 * through the device for the ops that run on the array. The suite gives the graph and its inputs
 * by name and compares the outputs by name.
 */
@FunctionalInterface
interface GraphRunner {
  Map<String, Tensor> run(Graph graph, Map<String, Tensor> inputs);
}
