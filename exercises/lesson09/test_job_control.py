# Lesson 09, the capstone: write the whole suite for the job-control feature here.
#
# The contract is on the lesson page (lessons/09-capstone.md). Nothing else is given: you choose
# the fixtures (conftest.py beside this file), the fakes, the signals and the cases.
# Earlier lessons' conftest.py files are yours to copy from: lesson 06 for an in-process app
# with its services, lesson 08 for a live server that lets you read a stream while it is open.
