"""Drop sizes for fixed routes: the cheapest quantities, as a min-cost flow.

Once the routes of every day are fixed (who is visited, by which vehicle), choosing the
quantities is a linear problem with a network structure: product flows from the
supplier's stock through a day's vehicles into customers' tanks and out as use, and
stock carried from one day to the next costs its holding cost. With integer data the
flow is integral, so the quantities are whole units.

Network (days t = 0..H-1): source -> supplier(t) (the start stock on day 0, the previous
day's production after); supplier(t) -> supplier(t+1) (holding h0; the last day's to
the sink); supplier(t) -> vehicle(t, k) (capacity C); vehicle(t, k) -> tank-in(i, t) for
the customers on that route. A customer's tank has nodes on its visit days only:
source -> tank-in at the first visit (the start level less the use until then);
tank-in -> tank-out (capacity U - L, the maximum level after a drop; holding h_i for
each day until the next visit); tank-out -> sink (the use until the next visit, a large
reward: it must be met); tank-out -> tank-in of the next visit (or the sink after the
last). Successive shortest paths with potentials (Dijkstra) on this acyclic network.

``quantities(instance, visits)`` returns the plan, or None when some customer must run
out whatever the quantities (the routes visit too rarely or carry too little). Tank
levels are measured above the minimum level L (a constant shift of the holding cost).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from replenish.sim.irp import IrpInstance, IrpPlan, Route

__all__ = ["quantities"]

INF = 1 << 60
SCALE = 10_000  # holding costs are given to 2 decimals: integer costs keep it exact


class _Graph:
    def __init__(self, n: int) -> None:
        self.head: list[list[int]] = [[] for _ in range(n)]
        self.to: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []

    def add(self, a: int, b: int, cap: int, cost: int) -> int:
        self.head[a].append(len(self.to))
        self.to += [b, a]
        self.cap += [cap, 0]
        self.cost += [cost, -cost]
        self.head[b].append(len(self.to) - 1)
        return len(self.to) - 2

    def min_cost_flow(self, s: int, t: int) -> None:
        """Push as much as possible from s to t, cheapest first (nodes are numbered in a
        topological order of the original arcs)."""
        n = len(self.head)
        potential = [INF] * n
        potential[s] = 0
        for a in range(n):  # shortest distances on the DAG, in index order
            if potential[a] == INF:
                continue
            for e in self.head[a]:
                if e % 2 == 0 and self.cap[e] > 0:
                    b = self.to[e]
                    if potential[a] + self.cost[e] < potential[b]:
                        potential[b] = potential[a] + self.cost[e]
        potential = [p if p < INF else 0 for p in potential]
        while True:
            dist = [INF] * n
            dist[s] = 0
            back = [-1] * n
            heap = [(0, s)]
            while heap:
                d, a = heapq.heappop(heap)
                if d > dist[a]:
                    continue
                pa = potential[a]
                for e in self.head[a]:
                    if self.cap[e] <= 0:
                        continue
                    b = self.to[e]
                    nd = d + self.cost[e] + pa - potential[b]
                    if nd < dist[b]:
                        dist[b] = nd
                        back[b] = e
                        heapq.heappush(heap, (nd, b))
            if dist[t] == INF:
                return
            for v in range(n):
                if dist[v] < INF:
                    potential[v] += dist[v]
            push, v = INF, t
            while v != s:
                e = back[v]
                push = min(push, self.cap[e])
                v = self.to[e ^ 1]
            v = t
            while v != s:
                e = back[v]
                self.cap[e] -= push
                self.cap[e ^ 1] += push
                v = self.to[e ^ 1]


def quantities(instance: IrpInstance, visits: Sequence[Sequence[Sequence[int]]]) -> IrpPlan | None:
    """The cheapest drops for routes ``visits[t][k]`` (customers in driving order), or
    None if a stock-out cannot be avoided with them."""
    days = instance.days
    reward = SCALE * 10**6  # more than any holding cost a unit can save
    visit_days: dict[int, list[int]] = {i: [] for i in range(1, instance.n + 1)}
    for t in range(days):
        for route in visits[t]:
            for i in route:
                visit_days[i].append(t)
    node = 1  # 0: the source; then day by day, so that index order is topological
    supplier: list[int] = []
    vehicle: list[list[int]] = []
    tank: dict[tuple[int, int], int] = {}  # (customer, day) -> tank-in (tank-out is +1)
    for t in range(days):
        supplier.append(node)
        node += 1
        vehicle.append(list(range(node, node + len(visits[t]))))
        node += len(visits[t])
        for route in visits[t]:
            for i in route:
                tank[i, t] = node
                node += 2
    sink = node
    g = _Graph(node + 1)
    source = 0
    h0 = round(instance.supplier_holding * SCALE)
    drop_arc: dict[tuple[int, int, int], int] = {}
    use_arcs: list[int] = []
    for t in range(days):
        g.add(source, supplier[t], instance.supplier_start if t == 0 else instance.production, 0)
        g.add(supplier[t], supplier[t + 1] if t + 1 < days else sink, INF, h0)
        for k, route in enumerate(visits[t]):
            g.add(supplier[t], vehicle[t][k], instance.capacity, 0)
            for i in route:
                drop_arc[t, k, i] = g.add(vehicle[t][k], tank[i, t], INF, 0)
    for i, c in enumerate(instance.customers, start=1):
        # levels above L; between visits the tank only empties, at a known rate
        chain = visit_days[i]
        first = chain[0] if chain else days
        carried = c.start - c.min_level - c.use * first  # left when the first drop comes
        if carried < 0:
            return None
        if not chain:
            continue
        g.add(source, tank[i, first], carried, 0)
        hold = round(c.holding * SCALE)
        for k, t in enumerate(chain):
            until = chain[k + 1] if k + 1 < len(chain) else days
            # every unit in the tank after the drop is held (until - t) days, a unit
            # used up meanwhile too: a constant that does not change the choice
            g.add(tank[i, t], tank[i, t] + 1, c.max_level - c.min_level, hold * (until - t))
            use_arcs.append(g.add(tank[i, t] + 1, sink, c.use * (until - t), -reward))
            g.add(tank[i, t] + 1, tank[i, until] if until < days else sink, INF, 0)
    g.min_cost_flow(source, sink)
    if any(g.cap[e] > 0 for e in use_arcs):  # some day's use not met: a stock-out
        return None
    plan: list[tuple[Route, ...]] = []
    for t in range(days):
        routes: list[Route] = []
        for k, route in enumerate(visits[t]):
            drops = tuple((i, float(g.cap[drop_arc[t, k, i] ^ 1])) for i in route)
            routes.append(tuple((i, q) for i, q in drops if q > 0))
        plan.append(tuple(routes))
    return IrpPlan(tuple(plan))
