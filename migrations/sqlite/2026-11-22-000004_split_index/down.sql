DROP INDEX gestures_by_requester;
