"""Plain words for every statistical term the app shows, written for a marketer, defined once.

Each term has one sentence; :func:`explained` puts it on an info mark beside a label (the
browser shows it on hover and keyboard focus; the mark's "i" is drawn by style.css, so the
label's text stays the label), so a page never explains a term its own way.
"""

from __future__ import annotations

from dash import html

TERMS: dict[str, str] = {
    "segment_map": "Every dot is a customer; customers who behave alike sit close together. "
                   "The two axes are the directions in which customers differ most (PCA), "
                   "each named by the behaviours that drive it; its percentage is how much of "
                   "all the differences between customers it shows.",
    "silhouette": "How clearly customers belong to their own segment rather than the nearest "
                  "other one, from -1 to 1: above 0.25 the segments are usable, above 0.5 "
                  "clearly apart.",
    "z_score": "How far a segment's average sits from the average customer, measured in the "
               "usual spread between customers: +1 is clearly above average, -1 clearly below.",
    "effect_size": "How strongly the segment differs from the other customers on a feature, "
                   "in their usual spread: 0.5 is a clear difference, 0.8 or more a large one.",
    "stability": "How often the segment comes back when the customers are segmented again on "
                 "random halves of them: stable segments make reliable campaign audiences.",
    "inertia": "How far customers are from the centre of their segment, in total. It always "
               "drops as k grows; the k where it stops dropping fast (the elbow) is a good "
               "choice.",
    "calinski_harabasz": "How far apart the segments are compared with how spread out each "
                         "one is: higher is better.",
    "davies_bouldin": "How much each segment overlaps its most similar neighbour: lower is "
                      "better, 0 means no overlap.",
    "frequency": "Share of the months with that activity: 1 means every month, 0 never.",
    "balance_frequency": "How often the balance changed over the months: 1 means every "
                         "month, 0 never.",
    "distance": "How far the customer is from the typical member of the segment: small "
                "distances are the clearest examples of it.",
    "control_group": "Customers of the audience who are not contacted, so the campaign's effect "
                     "can be measured against them.",
    "incremental_revenue": "Revenue the campaign is expected to add: the expected responders "
                           "times the value of a responder.",
    "roi": "Return on the money spent: incremental revenue minus cost, divided by cost.",
    "mde": "The smallest lift in response rate the control group can tell apart from chance "
           "(95 % confidence, 80 % power); a smaller expected lift cannot be proven.",
    "algorithm": "The method that groups the customers. K-means, the usual choice, makes "
                 "compact groups of similar size; the others suit oddly shaped or nested "
                 "groups, and HDBSCAN decides the number of segments itself.",
    "scaling": "Puts every behaviour on one scale before grouping, so large amounts do not "
               "outweigh frequencies. Robust scaling is less swayed by a few extreme customers.",
    "pca": "Principal component analysis: condenses the behaviours into fewer combined ones "
           "that keep most of the differences between customers, before grouping.",
    "seed": "A starting number for the method's random choices: the same seed gives the same "
            "segments again; another seed may shift a few customers.",
    "kpi_scope": "The numbers describe the customers lassoed on the map; without a lasso, "
                 "the highlighted segments; without either, every customer.",
}


def explained(label: str | list, term: str) -> html.Span:
    """``label`` with an info mark whose tooltip is :data:`TERMS` ``[term]``."""
    return html.Span([label, html.Span(className="c2c-info", title=TERMS[term], tabIndex="0")])
