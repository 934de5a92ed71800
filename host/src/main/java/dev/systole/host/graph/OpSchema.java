package dev.systole.host.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What Systole knows of one ONNX op: the versions of its definition it implements, how many inputs
 * and outputs each takes, and its attributes with their kinds, defaults and legal values. The
 * graph checks every node against its op's schema once, when it is built, so nothing downstream
 * meets a node with a missing default or a stride of zero.
 */
final class OpSchema {
  /** Says what is wrong with an attribute's value, or returns null if it is fine. */
  interface Check {
    String problem(Attribute a);
  }

  /** An attribute defined from version {@code from} until (not including) {@code until}. */
  record AttrSpec(String name, Attribute.Kind kind, int from, int until, Attribute dflt,
      Check check) {}

  /** Input and output counts from version {@code from} on. */
  private record Arity(int from, int minIn, int maxIn, int minOut, int maxOut) {}

  final String opType;
  /** Every version of the op's definition ONNX has up to opset 17, for resolving an opset. */
  private final int[] history;
  /** The versions Systole implements, a subset of the history. */
  private final int[] versions;
  private final List<Arity> arities = new ArrayList<>();
  private final List<AttrSpec> attrs = new ArrayList<>();

  OpSchema(String opType, int[] history, int[] versions) {
    this.opType = opType;
    this.history = history.clone();
    this.versions = versions.clone();
  }

  OpSchema arity(int from, int minIn, int maxIn, int minOut, int maxOut) {
    arities.add(new Arity(from, minIn, maxIn, minOut, maxOut));
    return this;
  }

  OpSchema attr(String name, Attribute.Kind kind, Attribute dflt, Check check) {
    return attr(name, kind, 0, Integer.MAX_VALUE, dflt, check);
  }

  OpSchema attr(String name, Attribute.Kind kind, int from, int until, Attribute dflt,
      Check check) {
    attrs.add(new AttrSpec(name, kind, from, until, dflt, check));
    return this;
  }

  /**
   * The version of this op's definition in force at {@code opset}: the latest version not after
   * it, or 0 if the op did not exist yet.
   */
  int resolve(int opset) {
    int v = 0;
    for (int h : history) {
      if (h <= opset) {
        v = h;
      }
    }
    return v;
  }

  boolean implementsVersion(int version) {
    return Arrays.stream(versions).anyMatch(v -> v == version);
  }

  String versionList() {
    return Arrays.toString(versions).replaceAll("[\\[\\]]", "");
  }

  /** The attributes defined at {@code version}. */
  List<AttrSpec> attributes(int version) {
    return attrs.stream().filter(a -> a.from <= version && version < a.until).toList();
  }

  Optional<AttrSpec> attribute(String name, int version) {
    return attributes(version).stream().filter(a -> a.name.equals(name)).findFirst();
  }

  /** {minIn, maxIn, minOut, maxOut} at {@code version}. */
  int[] arity(int version) {
    Arity chosen = null;
    for (Arity a : arities) {
      if (a.from <= version) {
        chosen = a;
      }
    }
    return new int[] {chosen.minIn, chosen.maxIn, chosen.minOut, chosen.maxOut};
  }
}
