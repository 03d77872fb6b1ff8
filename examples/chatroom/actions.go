package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
)

// createUsers adds n users after the existing ones and returns their ids.
func (r *room) createUsers(ctx context.Context, existing, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range n {
		id := fmt.Sprintf("u%03d", existing+i)
		ids[i] = id
		err := r.em.Call(ctx, "createUser", func(ctx context.Context) error {
			u := User{Name: fmt.Sprintf("User %d", existing+i), Email: id + "@example.com", Role: RoleUser, Active: true, Joined: time.Now().UTC()}
			if err := r.users.Put(ctx, id, u); err != nil {
				return err
			}
			return r.em.Emit(events.Custom{Type: "user.registered", Fields: map[string]any{"userId": id, "email": u.Email, "role": string(u.Role)}})
		})
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// sendMessages sends n messages from the users in turn.
func (r *room) sendMessages(ctx context.Context, userIDs []string, n int, text string) error {
	for i := range n {
		from := userIDs[i%len(userIDs)]
		id := fmt.Sprintf("m%d-%03d", time.Now().UnixMilli(), i)
		err := r.em.Call(ctx, "sendMessage", func(ctx context.Context) error {
			msg := Message{UserID: from, Text: fmt.Sprintf("%s #%d from %s", text, i, from), Sent: time.Now().UTC()}
			if err := r.messages.Put(ctx, id, msg); err != nil {
				return err
			}
			return r.em.Emit(events.Custom{Type: "message.sent", Fields: map[string]any{"userId": from, "textLength": len(msg.Text), "roomId": roomID}})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// promote makes a user an admin: an update event with the previous document.
func (r *room) promote(ctx context.Context, id string) error {
	return r.em.Call(ctx, "updateUserRole", func(ctx context.Context) error {
		u, ok, err := r.users.Get(ctx, id)
		if err != nil || !ok {
			return fmt.Errorf("user %s: found %v: %w", id, ok, err)
		}
		u.Role = RoleAdmin
		return r.users.Put(ctx, id, u)
	})
}

// vandalise deletes the newest messages and deactivates every user in one
// transaction: what the point-in-time restore then undoes.
func (r *room) vandalise(ctx context.Context) error {
	return r.em.Call(ctx, "purge", func(ctx context.Context) error {
		newest, err := r.messages.FindEntries(ctx, nil, cdc.FindOptions{Limit: 3, OrderBy: []cdc.Order{MessageWhere.Sent.Desc()}})
		if err != nil {
			return err
		}
		users, err := r.users.FindEntries(ctx, UserWhere.Active.Eq(true), cdc.FindOptions{})
		if err != nil {
			return err
		}
		return r.store.Update(ctx, func(tx *cdc.Tx) error {
			for _, m := range newest {
				if _, err := r.messages.With(tx).Delete(ctx, m.ID); err != nil {
					return err
				}
			}
			for _, u := range users {
				u.Doc.Active = false
				if err := r.users.With(tx).Put(ctx, u.ID, u.Doc); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
