"""The planner (`neocloud plan`): campus economics on simulation-backed utilisation (issue #12).

    economics    the named, sourced inputs (defaults in kernel/reference.py PLAN_ECONOMICS); EUR/USD
    operations   what a simulation run measured (utilisation and mix, prices, credits, energy) and its levers
    schedule     MW built per quarter
    model        the quarterly projection -> Plan (years, NPV, IRR, payback, peak funding)
    finance      NPV, IRR, payback, peak funding in exact decimals
    sensitivity  break-even price and utilisation, the tornado
    inputs       --set overrides, applied in one place
    simulate     scenario -> simulation -> Operations (or a saved run)
    present      JSON and headline rows; report: PNG charts and HTML
    sweep        grids of plans on a process pool or a Dask cluster

See docs/plan.md.
"""
