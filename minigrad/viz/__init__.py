"""Pictures of the recorded graph: see backpropagation through time.

    import minigrad.viz as viz
    viz.draw_graph(loss)                         # unrolled forward graph, a cluster per step
    viz.draw_graph(loss, mode="backward")        # the gradient computation
    viz.draw_graph(loss, mode="flow")            # edges coloured by ||gradient|| (log scale)
    viz.draw_graph(loss, collapse=True)          # one box per cell-step: long sequences
    norms = viz.gradient_flow(loss, rnn.hidden_states)   # ||dL/dh_t||, shape (T,)
    viz.plot_gradient_flow({"RNN": norms}, "flow.png")
    viz.explore(loss, states=rnn.hidden_states).save("explore.html")   # step through backward

``python examples/lecture_figures.py --out DIR`` renders the lecture's demo figures.
"""
from .draw import draw_graph
from .explore import Explorer, explore
from .gradient_flow import gradient_flow, plot_gradient_flow

__all__ = ["draw_graph", "explore", "Explorer", "gradient_flow", "plot_gradient_flow"]
