"""
Reference figures for bench/breeder-zdt2.ts: pymoo's NSGA-II on ZDT1 or ZDT2 (30 variables, population 100,
10,000 evaluations) with the literature's operators (SBX with probability 0.9 per pair, 0.5 per variable, eta_c
as given; polynomial mutation eta 20, probability 1/n; duplicates eliminated), scored as our bench scores ours:
the hypervolume against (1.1, 1.1) of the front of every evaluated point, as a fraction of the true front's.
`python3 bench/pymoo-zdt.py zdt2 20 0,1,2`. Needs pymoo 0.6.2 (not a dependency of the project; it was run from
a throwaway virtualenv).
"""
import sys, numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.problems import get_problem
from pymoo.optimize import minimize
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
prob = sys.argv[1]; eta_c = float(sys.argv[2]); seeds = [int(s) for s in sys.argv[3].split(',')]
p = get_problem(prob)
truth = HV(ref_point=np.array([1.1,1.1]))(p.pareto_front(n_pareto_points=20000))
for seed in seeds:
    alg = NSGA2(pop_size=100, crossover=SBX(prob=0.9, eta=eta_c), mutation=PM(eta=20), eliminate_duplicates=True)
    res = minimize(p, alg, ('n_evals', 10000), seed=seed, save_history=True)
    F = np.vstack([a.off.get('F') if a.off is not None else a.pop.get('F') for a in res.history] + [res.history[0].pop.get('F')])
    front = F[NonDominatedSorting().do(F, only_non_dominated_front=True)]
    print(prob, 'eta_c', eta_c, 'seed', seed, 'evals', len(F), 'hv', round(HV(ref_point=np.array([1.1,1.1]))(front)/truth, 4), 'f1max', round(front[:,0].max(), 3), flush=True)
