"""The teacher's pages, all under one ``/teacher`` router with one guard (:mod:`.router`): the class board
(:mod:`.board`, its shared moments in :mod:`.moments`), the join screen for the projector (:mod:`.join_screen`) and
the CSV exports (:mod:`.exports`). Every one of them answers 403 without the teacher's credential (:mod:`.guard`).

NiceGUI rendering only: the class's rules are :mod:`lesson.rules.classroom`'s, its state the store's
(:mod:`lesson.teaching.store`).
"""
