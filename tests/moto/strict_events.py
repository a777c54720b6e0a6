"""Strict mode for SQS queues and EventBridge rules (Karpenter's interruption queue): the rules
AWS enforces that moto 5.2.1 skips.

- SQS API reference, CreateQueue: "If you delete a queue, you must wait at least 60 seconds
  before creating a queue with the same name."; the error is QueueDeletedRecently (HTTP 400,
  `x-amzn-query-error: AWS.SimpleQueueService.QueueDeletedRecently;Sender`), "You must wait 60
  seconds after deleting a queue before you can create another queue with the same name."
  moto 5.2.1 lets the name be used again at once. Here the name is held for `QUEUE_REUSE`
  seconds after DeleteQueue: 3 by default (`EKSPEC_MOTO_QUEUE_REUSE_SECONDS`, or the
  `queue-reuse` hook), not AWS's 60, so a test that turns the queue off and on again shows
  the wait without spending a minute on it.
- EventBridge API reference, PutRule, Name: "Length Constraints: Minimum length of 1. Maximum
  length of 64. Pattern: [\\.\\-_A-Za-z0-9]+"; AWS answers ValidationException (HTTP 400),
  "1 validation error detected: Value '<name>' at 'name' failed to satisfy constraint: Member
  must have length less than or equal to 64". moto 5.2.1 takes any name.
- EventBridge API reference, PutRule: "If you are updating an existing rule, any tags you
  specify in the PutRule operation are ignored. To update the tags of an existing rule, use
  TagResource and UntagResource." moto 5.2.1 adds them.
- Already as AWS in moto 5.2.1 (no patch needed): DeleteRule of a rule with targets fails with
  ValidationException "Rule can't be deleted since it has targets." (API reference,
  DeleteRule: "Before you can delete the rule, you must remove all targets, using
  RemoveTargets."); queue names are 1 to 80 letters, digits, `-` and `_`; CreateQueue with a
  taken name and other attributes fails with QueueAlreadyExists; tags given to CreateQueue
  and PutRule show in ListQueueTags and ListTagsForResource.
"""

import os
import re

from moto.events import models as events_models
from moto.events.exceptions import ValidationException
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import SQSException

import strict

QUEUE_REUSE = float(os.environ.get("EKSPEC_MOTO_QUEUE_REUSE_SECONDS", "3"))

RULE_NAME = re.compile(r"^[\.\-_A-Za-z0-9]+$")

# (account, region, queue name) -> when the queue was deleted.
_DELETED = {}


class QueueDeletedRecently(SQSException):
    code = "QueueDeletedRecently"
    message = (
        "You must wait 60 seconds after deleting a queue before you can create another queue "
        "with the same name."
    )

    def __init__(self):
        super().__init__(self.code, self.message)


_create_queue = sqs_models.SQSBackend.create_queue
_delete_queue = sqs_models.SQSBackend.delete_queue


def create_queue(self, name, tags=None, **kwargs):
    with strict.LOCK:
        deleted = _DELETED.get((self.account_id, self.region_name, name))
        if (
            name not in self.queues
            and deleted is not None
            and strict.now() < deleted + QUEUE_REUSE
        ):
            raise QueueDeletedRecently()
        return _create_queue(self, name, tags=tags, **kwargs)


def delete_queue(self, queue_name):
    with strict.LOCK:
        _delete_queue(self, queue_name)
        _DELETED[(self.account_id, self.region_name, queue_name)] = strict.now()


_put_rule = events_models.EventsBackend.put_rule


def put_rule(self, name, *args, tags=None, **kwargs):
    if len(name) > 64:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
            "constraint: Member must have length less than or equal to 64"
        )
    if not RULE_NAME.match(name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
        )
    bus = self._normalize_event_bus_arn(kwargs.get("event_bus_arn"))
    exists = bus in self.event_buses and name in self.event_buses[bus].rules
    return _put_rule(self, name, *args, tags=None if exists else tags, **kwargs)


if strict.ENABLED:
    sqs_models.SQSBackend.create_queue = create_queue
    sqs_models.SQSBackend.delete_queue = delete_queue
    events_models.EventsBackend.put_rule = put_rule


@strict.control("queue-reuse")
def _queue_reuse(body):
    """SQS holds a deleted queue's name for `seconds` from now on."""
    global QUEUE_REUSE
    QUEUE_REUSE = float(body["seconds"])
    return {"seconds": QUEUE_REUSE}
