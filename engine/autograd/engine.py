"""The backward engine: dependency counting over the graph reachable from the
roots, then nodes run in a deterministic order (highest sequence number first
among the ready ones, like torch's CPU ready queue), each once all gradients
for it have arrived. Gradients for the same slot accumulate."""
from __future__ import annotations

import heapq

from engine.autograd.grad_mode import STATE
from engine.autograd.graph import AccumulateGrad
from engine.autograd.meta import autograd_meta


def gradient_edge(t):
    """(node, output slot) through which gradient flows into tensor t, or None."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._autograd.output_nr if t._autograd is not None else 0)
    if t.requires_grad:
        return (grad_accumulator(t), 0)
    return None


def grad_accumulator(t):
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

    # Discover the graph and count, for each node, the edges that reach it. Nodes hash by
    # identity, so they key the dicts themselves.
    dependencies = {}
    seen = set()
    stack = []
    for node, _ in root_edges:
        if node not in seen:  # several roots can be outputs of one node
            seen.add(node)
            stack.append(node)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            if nxt in dependencies:
                dependencies[nxt] += 1
            else:
                dependencies[nxt] = 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)

    # Which nodes lead to a captured input: only those need to run (torch prunes the same way).
    needed = None
    if capture is not None:
        needed = _nodes_leading_to(seen, {key[0] for key in capture})

    buffers = {}  # node -> list of the gradients arrived so far, one slot per output
    for (node, slot), grad in zip(root_edges, grad_roots):
        _deposit(buffers, node, slot, grad)

    captured = [None] * (len(inputs) if inputs is not None else 0)
    ready = []
    queued = set()
    for node, _ in root_edges:
        if node not in dependencies and node not in queued:
            queued.add(node)
            heapq.heappush(ready, (-node._sequence_nr, node))
    executed = []
    previous_mode = STATE.enabled
    STATE.enabled = create_graph
    try:
        while ready:
            node = heapq.heappop(ready)[1]
            grads = buffers.pop(node, None)
            num_outputs = node._num_outputs
            if grads is None:
                grads = [None] * num_outputs
            elif len(grads) < num_outputs:
                grads.extend([None] * (num_outputs - len(grads)))
            # torch's order: the produced tensors' hooks, then retain_grad, then the node's own pre-hooks.
            if node._tensor_pre_hooks:
                grads = _run_pre_hooks(node._tensor_pre_hooks, grads)
            retained = node._retained
            if retained:
                for slot, ref in retained.items():
                    t = ref()
                    if t is not None and slot < len(grads) and grads[slot] is not None:
                        g = grads[slot].detach()
                        t.grad = g.clone() if t.grad is None else t.grad + g
            if node._pre_hooks:
                grads = _run_pre_hooks(node._pre_hooks, grads)
            if capture is not None:
                for slot, g in enumerate(grads):
                    for k in capture.get((id(node), slot), ()):
                        captured[k] = g if g is None or create_graph else g.detach()
            if needed is not None and node not in needed:
                continue
            if type(node) is AccumulateGrad:
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
            for (nxt, slot), g in zip(node.next_functions, grad_inputs):
                if nxt is None:
                    continue
                if g is not None:
                    buf = buffers.get(nxt)
                    if buf is None and slot == 0:
                        buffers[nxt] = [g]  # the first gradient for a node's first output: the usual case
                    else:
                        _deposit(buffers, nxt, slot, g)
                remaining = dependencies[nxt] - 1
                dependencies[nxt] = remaining
                if remaining == 0 and (needed is None or nxt in buffers or nxt in needed):
                    heapq.heappush(ready, (-nxt._sequence_nr, nxt))
    finally:
        STATE.enabled = previous_mode
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


def _deposit(buffers, node, slot, grad):
    """Add grad into node's input buffer at slot (gradients for the same slot accumulate)."""
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * (slot + 1)
    elif len(buf) <= slot:
        buf.extend([None] * (slot + 1 - len(buf)))
    buf[slot] = _add(buf[slot], grad)


def _run_pre_hooks(hooks, grads):
    for hook in hooks or ():
        result = hook(tuple(grads))
        if result is not None:
            grads = list(result)
    return grads


def _nodes_leading_to(nodes, targets):
    """The nodes from which some target node (given by id) is reachable, targets included."""
    memo = {}

    def visit(node):
        if node in memo:
            return memo[node]
        memo[node] = False  # graphs are acyclic; this guards re-entry only
        result = id(node) in targets
        for nxt, _ in node.next_functions:
            if nxt is not None and visit(nxt):
                result = True
        memo[node] = result
        return result

    for node in list(nodes):
        visit(node)
    return {node for node, leads in memo.items() if leads}


def _accumulate(variable, grad, create_graph):
    """variable.grad += grad, with torch's tensor hooks on the leaf already applied upstream."""
    meta = variable._autograd
    if meta is not None and meta.leaf_hooks:
        for hook in meta.leaf_hooks:
            result = hook(grad)
            if result is not None:
                grad = result
    current = variable.grad
    if current is None:
        variable.grad = grad if create_graph else grad.detach().clone() if grad._base is not None or grad._requires_grad else grad
    elif create_graph:
        variable.grad = current + grad
    elif current._shape == grad._shape:
        current.add_(grad)
    if meta is not None and meta.post_accumulate_hooks:
        for hook in meta.post_accumulate_hooks:
            hook(variable)
