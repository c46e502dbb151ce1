"""The backward engine: dependency counting over the graph reachable from the
roots, then nodes run in a deterministic order (highest sequence number first
among the ready ones, like torch's CPU ready queue), each once all gradients
for it have arrived. Gradients for the same slot accumulate."""
from __future__ import annotations

import heapq

from engine.autograd import grad_mode
from engine.autograd.graph import AccumulateGrad


def gradient_edge(t):
    """(node, output slot) through which gradient flows into tensor t, or None."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._autograd.output_nr if t._autograd is not None else 0)
    if t.requires_grad:
        return (grad_accumulator(t), 0)
    return None


def grad_accumulator(t):
    from engine.autograd.meta import autograd_meta

    meta = autograd_meta(t)
    if meta.grad_accumulator is None:
        meta.grad_accumulator = AccumulateGrad(t)
    return meta.grad_accumulator


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def run_backward(roots, grad_roots, *, retain_graph, create_graph, inputs=None, allow_unused=False,
                 accumulate_into_grad=True):
    """Run the graph. With `inputs` and accumulate_into_grad False (autograd.grad),
    return the gradients of those inputs instead of touching .grad."""
    root_edges = []
    for i, t in enumerate(roots):
        edge = gradient_edge(t)
        if edge is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        root_edges.append(edge)

    # Capture points for autograd.grad / backward(inputs=...): the edge each input receives gradient through.
    capture = None
    if inputs is not None:
        capture = {}
        for k, t in enumerate(inputs):
            edge = gradient_edge(t)
            if edge is None:
                raise RuntimeError(f"One of the differentiated Tensors does not require grad")
            capture.setdefault((id(edge[0]), edge[1]), []).append(k)

    # Discover the graph and count, for each node, the edges that reach it.
    dependencies = {}
    nodes = {}
    stack = [edge[0] for edge in root_edges]
    seen = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes[id(node)] = node
        for edge in node.next_functions:
            if edge is None or edge[0] is None:
                continue
            nxt = edge[0]
            dependencies[id(nxt)] = dependencies.get(id(nxt), 0) + 1
            if id(nxt) not in seen:
                stack.append(nxt)

    # Which nodes lead to a captured input: only those need to run (torch prunes the same way).
    needed = None
    if capture is not None:
        needed = _nodes_leading_to(nodes, {key[0] for key in capture})

    buffers = {}
    for (node, slot), grad in zip(root_edges, grad_roots):
        buf = buffers.setdefault(id(node), {})
        buf[slot] = _add(buf.get(slot), grad)

    captured = [None] * (len(inputs) if inputs is not None else 0)
    ready = []
    for node, _ in root_edges:
        if dependencies.get(id(node), 0) == 0 and id(node) not in {id(n) for _, _, n in ready}:
            heapq.heappush(ready, (-node._sequence_nr, id(node), node))
    executed = []
    with grad_mode.set_grad_enabled(create_graph):
        while ready:
            _, _, node = heapq.heappop(ready)
            buf = buffers.pop(id(node), {})
            num_slots = max(buf.keys(), default=-1) + 1
            grads = [buf.get(i) for i in range(max(num_slots, getattr(node, "_num_outputs", 1)))]
            # torch's order: the produced tensors' hooks, then retain_grad, then the node's own pre-hooks.
            grads = _run_pre_hooks(node._tensor_pre_hooks, grads)
            retained = node._retained
            if retained:
                for slot, ref in retained.items():
                    t = ref()
                    if t is not None and slot < len(grads) and grads[slot] is not None:
                        g = grads[slot].detach()
                        t.grad = g.clone() if t.grad is None else t.grad + g
            grads = _run_pre_hooks(node._pre_hooks, grads)
            if capture is not None:
                for slot, g in enumerate(grads):
                    for k in capture.get((id(node), slot), ()):
                        captured[k] = g if g is None or create_graph else g.detach()
            if needed is not None and id(node) not in needed:
                continue
            if isinstance(node, AccumulateGrad):
                if accumulate_into_grad and capture is None and grads and grads[0] is not None:
                    _accumulate(node.variable, grads[0], create_graph)
                continue
            grad_inputs = node.apply(tuple(grads))
            if node._hooks:
                for hook in node._hooks:
                    result = hook(tuple(grad_inputs), tuple(grads))
                    if result is not None:
                        grad_inputs = tuple(result)
            executed.append(node)
            for edge, g in zip(node.next_functions, grad_inputs):
                if edge is None or edge[0] is None:
                    continue
                nxt, slot = edge
                if g is not None:
                    b = buffers.setdefault(id(nxt), {})
                    b[slot] = _add(b.get(slot), g)
                dependencies[id(nxt)] -= 1
                if dependencies[id(nxt)] == 0:
                    if id(nxt) in buffers or needed is None or id(nxt) in needed:
                        heapq.heappush(ready, (-nxt._sequence_nr, id(nxt), nxt))
    if not retain_graph:
        for node in executed:
            node.release_saved()
    if inputs is not None and not accumulate_into_grad:
        for k, g in enumerate(captured):
            if g is None and not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True "
                    "if this is the desired behavior."
                )
        return tuple(captured)
    if inputs is not None:
        for t, g in zip(inputs, captured):
            if g is not None:
                _accumulate(t, g, create_graph)
    return None


def _run_pre_hooks(hooks, grads):
    for hook in hooks or ():
        result = hook(tuple(grads))
        if result is not None:
            grads = list(result)
    return grads


def _nodes_leading_to(nodes, targets):
    """ids of nodes from which some target node is reachable (targets included)."""
    memo = {}

    def visit(node):
        key = id(node)
        if key in memo:
            return memo[key]
        memo[key] = False  # graphs are acyclic; this guards re-entry only
        result = key in targets
        for edge in node.next_functions:
            if edge is not None and edge[0] is not None and visit(edge[0]):
                result = True
        memo[key] = result
        return result

    for node in list(nodes.values()):
        visit(node)
    return {k for k, v in memo.items() if v}


def _accumulate(variable, grad, create_graph):
    """variable.grad += grad, with torch's tensor hooks on the leaf already applied upstream."""
    from engine.autograd.meta import autograd_meta

    meta = variable._autograd
    if meta is not None and meta.leaf_hooks:
        for hook in meta.leaf_hooks:
            result = hook(grad)
            if result is not None:
                grad = result
    if variable.grad is None:
        variable.grad = grad if create_graph else grad.detach().clone() if grad._base is not None or grad.requires_grad else grad
    elif create_graph:
        variable.grad = variable.grad + grad
    else:
        variable.grad.add_(grad) if variable.grad.shape == grad.shape else None
    if meta is not None and meta.post_accumulate_hooks:
        for hook in meta.post_accumulate_hooks:
            hook(variable)
