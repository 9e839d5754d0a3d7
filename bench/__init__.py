"""controlroom's benchmark: real workers, real RabbitMQ and PostgreSQL, figures against limits.

Each case runs in a fresh plant namespace (queue prefix and database schema `b_<hex>`), starts
the workers as child processes, measures, audits and removes its namespace. Figures are noisy on
a shared machine, so every case can also measure the machine's raw limits in the same run
(`ceiling`) and print each figure as a ratio of the limit it is bounded by.
"""
