"""ef.Module (issue #7, item 1): what a Module owns, in which order, its name, lazily built
subclasses with Python control flow, and the hooks checkpoints use."""

from __future__ import annotations

import numpy as np
import pytest

import eagerflow_core as ef
from _training_models import Lazy


class Net(ef.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.blocks = [Lazy(4), Lazy(4), Lazy(1)]
        self.scale = ef.Variable(1.0, name="scale")

    def __call__(self, x, depth=None):
        for i, block in enumerate(self.blocks[:depth]):  # Python control flow on values too
            x = block(x)
            if i == 0 and float(ef.max(x)) > 100:
                x = x / 100
        return x * self.scale


def _names(vs):
    return [v.name for v in vs]


def test_variables_in_attributes_and_nested_containers_in_order():
    m = ef.Module()
    m.a = ef.Variable(1.0, name="a")
    m.nested = {"x": [ef.Variable(2.0, name="b"), (ef.Variable(3.0, name="c"),)],
                "y": {"z": ef.Variable(4.0, name="d", trainable=False)}}
    m.plain = [1, "two", None, np.zeros(3), ef.constant(5.0)]  # not state
    m.e = ef.Variable(5.0, name="e")
    assert _names(m.variables) == ["a", "b", "c", "d", "e"]
    assert _names(m.trainable_variables) == ["a", "b", "c", "e"]
    assert _names(m.non_trainable_variables) == ["d"]
    m.nested["x"].append(ef.Variable(6.0, name="f"))  # a container that grew afterwards
    assert _names(m.variables) == ["a", "b", "c", "f", "d", "e"]


def test_own_variables_first_then_submodules_depth_first_each_once():
    shared = ef.Variable(0.0, name="shared")
    inner = ef.Module(name="inner")
    inner.w = ef.Variable(1.0, name="inner_w")
    inner.shared = shared
    outer = ef.Module(name="outer")
    outer.sub = inner
    outer.own = ef.Variable(2.0, name="own")
    outer.again = [inner, shared]  # reachable twice
    other = ef.Module(name="other")
    other.back = outer  # a cycle
    outer.other = other
    assert _names(outer.variables) == ["own", "shared", "inner_w"]
    assert [m.name for m in outer.submodules] == ["inner", "other"]
    assert [m.name for m in other.submodules] == ["outer", "inner"]


def test_a_lazily_built_subclass_with_control_flow_trains():
    net = Net()
    assert net.variables[0].name == "scale" and len(net.variables) == 1
    x = ef.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    y = net(x)
    assert y.shape == (2, 1)
    assert _names(net.trainable_variables) == ["scale"] + ["kernel", "bias"] * 3
    assert [v.shape for v in net.trainable_variables[1:3]] == [(3, 4), (4,)]
    opt = ef.optimizers.Adam(0.01)
    losses = []
    for _ in range(5):
        with ef.GradientTape() as tape:
            loss = ef.mean((net(x) - 1.0) ** 2)
        grads = tape.gradient(loss, net.trainable_variables)
        assert all(g is not None for g in grads)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    assert net(x, depth=1).shape == (2, 4)


def test_names_are_the_class_name_in_snake_case_made_unique():
    # Class names no other test uses: the counters are per process, as in Keras.
    class QuirkyBatchNormalization(ef.Module):
        pass

    class Quirky2DConv(ef.Module):
        pass
    assert [QuirkyBatchNormalization().name for _ in range(3)] == [
        "quirky_batch_normalization", "quirky_batch_normalization_1",
        "quirky_batch_normalization_2"]
    assert Quirky2DConv().name == "quirky2d_conv"
    assert Quirky2DConv(name="mine").name == "mine" and Quirky2DConv(name="mine").name == "mine"
    with pytest.raises(TypeError, match="must be a str"):
        ef.Module(name=3)

    class NoSuper(ef.Module):
        def __init__(self):
            self.w = ef.Variable(1.0)
    m = NoSuper()
    assert m.name.startswith("no_super") and len(m.variables) == 1
    m.name = "renamed"
    assert m.name == "renamed" and repr(m) == "<NoSuper name='renamed'>"


def test_a_module_with_trainable_false_freezes_what_it_holds():
    net = Net()
    net(ef.ones((1, 3)))
    net.blocks[1].trainable = False
    assert len(net.trainable_variables) == 5 and len(net.non_trainable_variables) == 2
    assert all(v.trainable for v in net.variables)  # the Variables themselves are untouched
    net.trainable = False
    assert net.trainable_variables == [] and len(net.non_trainable_variables) == 7


def test_optimizers_are_modules():
    assert issubclass(ef.optimizers.Adam, ef.Module)


def test_checkpoint_children_and_the_deferred_restore_hook():
    class Node:
        def __init__(self, done=True):
            self.bound, self.done = [], done

        def _ef_bind(self, value):
            self.bound.append(value)
            return self.done
    m = Lazy(2)
    assert [k for k, _ in m._checkpoint_children()] == []  # kernel is None: nothing to save
    kernel_node, bias_node = Node(), Node(done=False)
    m._ef_defer("kernel", kernel_node)
    m._ef_defer("bias", bias_node)
    m(ef.ones((1, 3)))  # build: assigning the attributes hands them to the nodes
    assert kernel_node.bound == [m.kernel] and bias_node.bound == [m.bias]
    assert list(m._ef_pending) == ["bias"]  # a node that is not done stays parked
    _ = m.variables  # and is offered the attribute again when the Module is walked
    assert bias_node.bound == [m.bias, m.bias]
    bias_node.done = True
    _ = m.trainable_variables
    assert not m._ef_pending
    assert [k for k, _ in m._checkpoint_children()] == ["kernel", "bias"]
    m._ef_secret = ef.Variable(1.0)  # the framework's own attributes are never walked
    assert len(m.variables) == 2
